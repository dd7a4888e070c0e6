using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.State;

namespace TypedSandbox.Server.Volumes;

/// <summary>Volumes: directories under the state directory, bind-mounted into sandboxes; writes go straight to disk.</summary>
/// <param name="database">The state database.</param>
/// <param name="volumesDirectory">Where volume directories live (<see cref="StorageQuota.VolumesDirectory"/> with a quota).</param>
/// <param name="clock">The clock.</param>
/// <param name="quota">Gives each volume directory a size limit; null = unlimited plain directories.</param>
/// <param name="limitBytes">The size limit of each volume (with a quota).</param>
public sealed class VolumeStore(StateDatabase database, string volumesDirectory, TimeProvider clock, StorageQuota? quota = null,
    long limitBytes = StorageQuota.DefaultLimitBytes)
{
    /// <summary>Finds a named volume, creating it when asked; returns its id.</summary>
    public async Task<string> GetOrCreateNamedAsync(string environment, string name, bool createIfMissing, CancellationToken cancellationToken)
    {
        EngineRules.Require(EngineRules.CheckObjectName(name, "Volume name"));
        var id = await FindAsync(environment, name, cancellationToken).ConfigureAwait(false);
        if (id is not null)
        {
            return id;
        }

        if (!createIfMissing)
        {
            throw EngineException.NotFound($"Volume '{name}' not found");
        }

        await InsertAsync(environment, name, cancellationToken).ConfigureAwait(false);
        return await FindAsync(environment, name, cancellationToken).ConfigureAwait(false)
            ?? throw new EngineException(EngineErrorKind.Internal, $"Volume '{name}' vanished after it was created.");
    }

    /// <summary>Creates an anonymous volume (an SDK's <c>volumes.ephemeral()</c>); returns its id.</summary>
    public Task<string> CreateEphemeralAsync(string environment, CancellationToken cancellationToken) =>
        InsertAsync(environment, null, cancellationToken);

    /// <summary>The host directory holding a volume's files.</summary>
    public async Task<string> GetDirectoryAsync(string volumeId, CancellationToken cancellationToken)
    {
        var exists = await database.ScalarAsync<long>(
            "SELECT COUNT(*) FROM volumes WHERE id = $id", new Dictionary<string, object?> { ["$id"] = volumeId }, cancellationToken).ConfigureAwait(false);
        if (exists == 0)
        {
            throw EngineException.NotFound($"Volume with id '{volumeId}' not found");
        }

        var path = Path.Combine(volumesDirectory, volumeId);
        CreateDirectory(path);
        return path;
    }

    private async Task<string> InsertAsync(string environment, string? name, CancellationToken cancellationToken)
    {
        var id = ObjectIds.New("vo");
        CreateDirectory(Path.Combine(volumesDirectory, id));
        await database.ExecuteAsync(
            "INSERT OR IGNORE INTO volumes (id, environment, name, version, created_at) VALUES ($id, $env, $name, 2, $at)",
            new Dictionary<string, object?>
            {
                ["$id"] = id, ["$env"] = environment, ["$name"] = name, ["$at"] = clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
            },
            cancellationToken).ConfigureAwait(false);
        return id;
    }

    private void CreateDirectory(string path)
    {
        if (quota is null) Directory.CreateDirectory(path);
        else if (!Directory.Exists(path)) quota.CreateLimitedDirectory(path, limitBytes);
    }

    private Task<string?> FindAsync(string environment, string name, CancellationToken cancellationToken) =>
        database.ScalarAsync<string>(
            "SELECT id FROM volumes WHERE environment = $env AND name = $name",
            new Dictionary<string, object?> { ["$env"] = environment, ["$name"] = name }, cancellationToken);
}
