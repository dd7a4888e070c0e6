using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.State;

/// <summary>Published image names (<c>name:tag</c>, Modal's <c>image.publish</c>) per environment, persisted in the state database.</summary>
internal sealed class ImageTagStore(StateDatabase database, TimeProvider clock)
{
    /// <summary>Points <paramref name="tag"/> at <paramref name="imageId"/> in the environment, replacing an earlier image of that name.</summary>
    public Task PublishAsync(string environment, string tag, string imageId, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            INSERT INTO image_tags (environment, tag, image_id, created_at) VALUES ($env, $tag, $image, $at)
            ON CONFLICT (environment, tag) DO UPDATE SET image_id = excluded.image_id, created_at = excluded.created_at
            """,
            new Dictionary<string, object?>
            {
                ["$env"] = EnvironmentStore.Canonical(environment), ["$tag"] = tag, ["$image"] = imageId,
                ["$at"] = clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
            },
            cancellationToken);

    /// <summary>The image a published name points at; fails with NOT_FOUND when the name is not published.</summary>
    public async Task<string> ResolveAsync(string environment, string tag, CancellationToken cancellationToken) =>
        await database.ScalarAsync<string>(
            "SELECT image_id FROM image_tags WHERE environment = $env AND tag = $tag",
            new Dictionary<string, object?> { ["$env"] = EnvironmentStore.Canonical(environment), ["$tag"] = tag }, cancellationToken).ConfigureAwait(false)
        ?? throw EngineException.NotFound($"Could not find image with tag '{tag}'");

    /// <summary>Removes every name of an image (the image is being deleted).</summary>
    public Task<int> UnpublishImageAsync(string imageId, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "DELETE FROM image_tags WHERE image_id = $image", new Dictionary<string, object?> { ["$image"] = imageId }, cancellationToken);

    /// <summary>Removes every name published in an environment.</summary>
    public Task<int> DeleteAllAsync(string environment, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "DELETE FROM image_tags WHERE environment = $env",
            new Dictionary<string, object?> { ["$env"] = EnvironmentStore.Canonical(environment) }, cancellationToken);
}
