using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.State;

namespace TypedSandbox.Server.Volumes;

/// <summary>
/// Volumes: directories with a size limit each, bind-mounted into sandboxes; writes go straight to disk. A volume's
/// root directory belongs to root of the sandboxes' id range (<paramref name="owner"/>), so what sandboxes write there
/// is owned by the range, never by host root.
/// </summary>
/// <param name="database">The state database.</param>
/// <param name="volumesDirectory">Where volume directories live (<see cref="StorageQuota.VolumesDirectory"/> with a quota).</param>
/// <param name="clock">Creation times.</param>
/// <param name="owner">The sandboxes' id range; null keeps volume roots owned by the engine's user.</param>
/// <param name="quota">Gives each volume directory a size limit; null = unlimited plain directories.</param>
/// <param name="limitBytes">The size limit of each volume (with a quota).</param>
internal sealed class VolumeStore(StateDatabase database, string volumesDirectory, TimeProvider clock, SandboxIdRange? owner = null,
    StorageQuota? quota = null, long limitBytes = StorageQuota.DefaultLimitBytes)
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
        CreateVolumeRoot(path);
        return path;
    }

    /// <summary>The ids of an environment's volumes, named and ephemeral.</summary>
    public Task<IReadOnlyList<string>> ListIdsAsync(string environment, CancellationToken cancellationToken) =>
        database.QueryAsync(
            "SELECT id FROM volumes WHERE environment = $env",
            new Dictionary<string, object?> { ["$env"] = EnvironmentStore.Canonical(environment) }, r => r.GetString(0), cancellationToken);

    /// <summary>
    /// Removes a volume: first its record (so no new sandbox can mount it), then its files. The caller makes sure no
    /// running sandbox mounts it. Fails with NOT_FOUND when there is no such volume.
    /// </summary>
    public async Task DeleteAsync(string volumeId, CancellationToken cancellationToken)
    {
        var removed = await database.ExecuteAsync(
            "DELETE FROM volumes WHERE id = $id", new Dictionary<string, object?> { ["$id"] = volumeId }, cancellationToken).ConfigureAwait(false);
        if (removed == 0)
        {
            throw EngineException.NotFound($"Volume with id '{volumeId}' not found");
        }

        var path = Path.Combine(volumesDirectory, volumeId);
        if (Directory.Exists(path))
        {
            await TreeRemoval.DeleteAsync(path, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> InsertAsync(string environment, string? name, CancellationToken cancellationToken)
    {
        var id = ObjectIds.New("vo");
        CreateVolumeRoot(Path.Combine(volumesDirectory, id));
        await database.ExecuteAsync(
            "INSERT OR IGNORE INTO volumes (id, environment, name, version, created_at) VALUES ($id, $env, $name, 2, $at)",
            new Dictionary<string, object?>
            {
                ["$id"] = id, ["$env"] = EnvironmentStore.Canonical(environment), ["$name"] = name, ["$at"] = clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
            },
            cancellationToken).ConfigureAwait(false);
        return id;
    }

    private void CreateVolumeRoot(string path)
    {
        if (Directory.Exists(path))
        {
            // A volume from before user namespaces (owned by host root): hand its files to the range once.
            if (owner is not null && !owner.Contains(NativeFileSystem.LStat(path).Uid))
            {
                NativeFileSystem.ShiftOwnership(path, owner);
            }

            return;
        }

        if (quota is null)
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            quota.CreateLimitedDirectory(path, limitBytes);
        }

        if (owner is not null)
        {
            NativeFileSystem.LChown(path, owner.HostId, owner.HostId);
        }

        NativeFileSystem.Chmod(path, 0b111_101_101);
    }

    private Task<string?> FindAsync(string environment, string name, CancellationToken cancellationToken) =>
        database.ScalarAsync<string>(
            "SELECT id FROM volumes WHERE environment = $env AND name = $name",
            new Dictionary<string, object?> { ["$env"] = EnvironmentStore.Canonical(environment), ["$name"] = name }, cancellationToken);
}
