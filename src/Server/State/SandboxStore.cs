using System.Text.Json;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.State;

/// <summary>
/// The sandboxes' records in the state database: one row per sandbox ever created, its result once it ended, so a
/// sandbox stays known (result, tags, app, name) after it was evicted from memory or the engine restarted.
/// </summary>
internal sealed class SandboxStore(StateDatabase database)
{
    /// <summary>
    /// Marks sandboxes that were running when the engine last stopped as terminated; returns how many there were.
    /// </summary>
    /// <param name="now">When they are recorded as finished.</param>
    /// <param name="running">Sandboxes that still run (adopted from the engine before): left as they are.</param>
    /// <param name="cancellationToken">Cancels the update.</param>
    public Task<int> MarkOrphansAsync(DateTimeOffset now, IReadOnlyList<string> running, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            UPDATE sandboxes SET finished_at = $at, result_status = $status, result_exit_code = 137,
              result_message = 'The engine restarted while the sandbox was running; it was terminated.'
            WHERE finished_at IS NULL AND id NOT IN (SELECT value FROM json_each($running))
            """,
            new Dictionary<string, object?>
            {
                ["$at"] = Seconds(now), ["$status"] = (int)SandboxOutcome.Terminated, ["$running"] = JsonSerializer.Serialize(running),
            },
            cancellationToken);

    /// <summary>
    /// Records a new sandbox (running: no result yet). The commit is not flushed to the disk on the create's path: a host
    /// crash before the next flushed commit may forget a sandbox its container died with; an engine crash loses nothing.
    /// </summary>
    public Task<int> InsertAsync(SandboxSession session, CancellationToken cancellationToken) =>
        database.ExecuteUnflushedAsync(
            """
            INSERT INTO sandboxes (id, task_id, app_id, name, created_at, image_id, tags, definition)
            VALUES ($id, $task, $app, $name, $at, $image, $tags, $definition)
            """,
            new Dictionary<string, object?>
            {
                ["$id"] = session.Id, ["$task"] = session.TaskId, ["$app"] = session.Spec.AppId, ["$name"] = session.Spec.Name,
                ["$at"] = Seconds(session.CreatedAt), ["$image"] = session.Spec.ImageId, ["$tags"] = JsonSerializer.Serialize(session.Spec.Tags),
                // The definition is kept for inspection; secret values are not part of it.
                ["$definition"] = JsonSerializer.Serialize(new { session.Spec.EntrypointArgs, session.Spec.Timeout, session.Spec.Workdir, Network = session.Spec.Network.Mode.ToString() }),
            },
            cancellationToken);

    /// <summary>Records a sandbox's result.</summary>
    public Task<int> SetResultAsync(string sandboxId, SandboxResult result, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            UPDATE sandboxes SET finished_at = $at, result_status = $status, result_exit_code = $code, result_message = $message
            WHERE id = $id
            """,
            new Dictionary<string, object?>
            {
                ["$id"] = sandboxId, ["$at"] = Seconds(result.FinishedAt), ["$status"] = (int)result.Outcome,
                ["$code"] = result.ExitCode, ["$message"] = result.Message,
            },
            cancellationToken);

    /// <summary>A sandbox's stored result: not found (false), running (true, null) or finished (true, its result).</summary>
    public async Task<(bool Found, SandboxResult? Result)> GetResultAsync(string sandboxId, CancellationToken cancellationToken)
    {
        var rows = await database.QueryAsync(
            "SELECT result_status, result_exit_code, result_message, finished_at FROM sandboxes WHERE id = $id",
            Id(sandboxId),
            r => r.IsDBNull(0) ? null : new SandboxResult((SandboxOutcome)r.GetInt32(0), r.GetInt32(1), r.IsDBNull(2) ? null : r.GetString(2), FromSeconds(r.GetDouble(3))),
            cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? (false, null) : (true, rows[0]);
    }

    /// <summary>The app a sandbox belongs to, or null for an unknown sandbox.</summary>
    public Task<string?> GetAppIdAsync(string sandboxId, CancellationToken cancellationToken) =>
        database.ScalarAsync<string>("SELECT app_id FROM sandboxes WHERE id = $id", Id(sandboxId), cancellationToken);

    /// <summary>The id of the newest sandbox with this name in the app, finished or not, or null.</summary>
    public Task<string?> FindNewestByNameAsync(string appId, string name, CancellationToken cancellationToken) =>
        database.ScalarAsync<string>(
            "SELECT id FROM sandboxes WHERE app_id = $app AND name = $name ORDER BY created_at DESC LIMIT 1",
            new Dictionary<string, object?> { ["$app"] = appId, ["$name"] = name }, cancellationToken);

    /// <summary>Records the name set on a running sandbox (sb.experimentalSetName).</summary>
    public Task<int> SetNameAsync(string sandboxId, string name, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "UPDATE sandboxes SET name = $name WHERE id = $id", new Dictionary<string, object?> { ["$id"] = sandboxId, ["$name"] = name }, cancellationToken);

    /// <summary>Replaces a sandbox's stored tags.</summary>
    public Task<int> SetTagsAsync(string sandboxId, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "UPDATE sandboxes SET tags = $tags WHERE id = $id",
            new Dictionary<string, object?> { ["$id"] = sandboxId, ["$tags"] = JsonSerializer.Serialize(tags) },
            cancellationToken);

    /// <summary>A sandbox's stored tags, or null for an unknown sandbox.</summary>
    public async Task<IReadOnlyDictionary<string, string>?> GetTagsAsync(string sandboxId, CancellationToken cancellationToken)
    {
        var json = await database.ScalarAsync<string>("SELECT tags FROM sandboxes WHERE id = $id", Id(sandboxId), cancellationToken).ConfigureAwait(false);
        return json is null ? null : ParseTags(json);
    }

    /// <summary>Sandboxes newest first, created strictly before <paramref name="before"/> (tags as stored).</summary>
    public Task<IReadOnlyList<SandboxListing>> ListAsync(string? appId, DateTimeOffset? before, bool includeFinished, CancellationToken cancellationToken) =>
        database.QueryAsync(
            """
            SELECT id, app_id, name, created_at, tags, image_id, finished_at FROM sandboxes
            WHERE ($app IS NULL OR app_id = $app) AND ($before IS NULL OR created_at < $before)
              AND ($finished = 1 OR finished_at IS NULL)
            ORDER BY created_at DESC
            """,
            new Dictionary<string, object?>
            {
                ["$app"] = string.IsNullOrEmpty(appId) ? null : appId,
                ["$before"] = before is { } b ? Seconds(b) : null,
                ["$finished"] = includeFinished ? 1 : 0,
            },
            r => new SandboxListing(
                r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetDouble(3),
                ParseTags(r.GetString(4)), r.GetString(5), !r.IsDBNull(6)),
            cancellationToken);

    private static Dictionary<string, object?> Id(string sandboxId) => new() { ["$id"] = sandboxId };

    private static Dictionary<string, string> ParseTags(string json) => JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];

    private static double Seconds(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / 1000.0;

    private static DateTimeOffset FromSeconds(double seconds) => DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
}

/// <summary>One row of a sandbox listing.</summary>
internal sealed record SandboxListing(
    string Id, string AppId, string? Name, double CreatedAt, IReadOnlyDictionary<string, string> Tags, string ImageId, bool Finished);
