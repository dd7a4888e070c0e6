using System.Collections.Concurrent;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Snapshots;

/// <summary>Bounds of the memory snapshot store.</summary>
/// <param name="MaxCount">Snapshots kept at most; a snapshot beyond is refused (delete one first).</param>
/// <param name="MaxBytes">Bytes all snapshots may take together; a snapshot that would pass it is deleted and refused.</param>
internal sealed record MemorySnapshotLimits(int MaxCount, long MaxBytes)
{
    /// <summary>32 snapshots, 8 GiB together.</summary>
    public static MemorySnapshotLimits Default { get; } = new(32, 8L << 30);
}

/// <summary>
/// Memory snapshots (Modal's <c>experimentalSnapshot</c> / <c>experimentalFromSnapshot</c>): a gVisor sandbox created
/// with snapshots enabled is checkpointed whole (memory, processes, tmpfs, its filesystem changes) into
/// <c>&lt;directory&gt;/&lt;snapshot id&gt;</c>, and any number of new sandboxes are restored from it, each with its own id,
/// continuing where the processes were. This runsc stops the sandbox it checkpoints: the original ends (TERMINATED)
/// when the snapshot is taken. Snapshots stay until <see cref="DeleteAsync"/> (or the state directory is removed),
/// within <see cref="MemorySnapshotLimits"/>. A sandbox restored from a snapshot has no entrypoint output stream (its
/// processes run on; their output to the old channel is not re-attached).
/// </summary>
internal sealed partial class MemorySnapshots(SandboxManager sandboxes, string directory, MemorySnapshotLimits limits, ILogger<MemorySnapshots> logger)
{
    private readonly ConcurrentDictionary<string, Task> _taking = new(StringComparer.Ordinal);
    private readonly Lock _admission = new();

    /// <summary>Starts a snapshot of a running, snapshot-enabled sandbox; returns its id at once (see <see cref="WaitAsync"/>).</summary>
    /// <exception cref="EngineException">Not enabled, finished, or the store is full (FAILED_PRECONDITION).</exception>
    public Task<string> StartAsync(SandboxSession session, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!session.Spec.EnableMemorySnapshot)
        {
            throw EngineException.Precondition($"Sandbox {session.Id} was created without experimentalEnableSnapshot; memory snapshots need it.");
        }

        var container = session.RequireRunning() as ICheckpointableContainer
            ?? throw EngineException.Precondition($"Sandbox {session.Id} cannot be checkpointed by this engine's runtime.");
        ct.ThrowIfCancellationRequested();
        lock (_admission)
        {
            Directory.CreateDirectory(directory);
            if (Directory.EnumerateDirectories(directory).Count() >= limits.MaxCount)
            {
                throw EngineException.Precondition($"The engine keeps at most {limits.MaxCount} memory snapshots; delete one first.");
            }

            var id = "sn-" + ObjectIds.Random(22);
            Directory.CreateDirectory(Path.Combine(directory, id));
            _taking[id] = Task.Run(() => TakeAsync(session, container, id), CancellationToken.None);
            return Task.FromResult(id);
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a snapshot; null while it is still being taken.</summary>
    /// <exception cref="EngineException">No such snapshot (NOT_FOUND); it failed (its reason, FAILED_PRECONDITION or INTERNAL).</exception>
    public async Task<MemorySnapshotRecord?> WaitAsync(string snapshotId, TimeSpan timeout, CancellationToken ct)
    {
        if (_taking.TryGetValue(snapshotId, out var taking))
        {
            await Task.WhenAny(taking, Task.Delay(timeout, ct)).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            if (!taking.IsCompleted)
            {
                return null;
            }

            await taking.ConfigureAwait(false);
        }

        return await GetAsync(snapshotId, ct).ConfigureAwait(false);
    }

    /// <summary>A finished snapshot's record.</summary>
    /// <exception cref="EngineException">No such snapshot (NOT_FOUND).</exception>
    public async Task<MemorySnapshotRecord> GetAsync(string snapshotId, CancellationToken ct)
    {
        var path = PathOf(snapshotId);
        return (Directory.Exists(path) ? await MemorySnapshotRecord.ReadAsync(path, ct).ConfigureAwait(false) : null)
            ?? throw EngineException.NotFound($"Sandbox snapshot '{snapshotId}' not found.");
    }

    /// <summary>Starts a new sandbox from a snapshot: a new id, the processes continuing, the agent answering execs.</summary>
    /// <param name="snapshotId">The snapshot.</param>
    /// <param name="name">The new sandbox's name (null: none).</param>
    /// <param name="ct">Cancels the restore.</param>
    public async Task<SandboxSession> RestoreAsync(string snapshotId, Func<string?, string?> name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(name);
        var record = await GetAsync(snapshotId, ct).ConfigureAwait(false);
        var path = PathOf(snapshotId);
        var restore = new CheckpointRestore(MemorySnapshotRecord.MemoryDirectory(path), MemorySnapshotRecord.UpperDirectory(path), record.Channel);
        // The restored processes carry on; there is no entrypoint to start, and the old one's output is not re-attached.
        var spec = record.Spec with { EntrypointArgs = [], Name = name(record.Spec.Name) };
        var session = await sandboxes.CreateAsync(spec, (_, container) => container with { Restore = restore, Entrypoint = null }, ct).ConfigureAwait(false);
        LogRestored(snapshotId, session.Id);
        return session;
    }

    /// <summary>Deletes a snapshot (sandboxes restored from it are not affected).</summary>
    public async Task DeleteAsync(string snapshotId, CancellationToken ct)
    {
        if (_taking.TryGetValue(snapshotId, out var taking))
        {
            await taking.WaitAsync(ct).ConfigureAwait(false);
        }

        var path = PathOf(snapshotId);
        if (!Directory.Exists(path))
        {
            throw EngineException.NotFound($"Sandbox snapshot '{snapshotId}' not found.");
        }

        await TreeRemoval.DeleteAsync(path, ct).ConfigureAwait(false);
    }

    private async Task TakeAsync(SandboxSession session, ICheckpointableContainer container, string snapshotId)
    {
        var path = PathOf(snapshotId);
        try
        {
            var channel = await container.CheckpointAsync(MemorySnapshotRecord.MemoryDirectory(path), MemorySnapshotRecord.UpperDirectory(path),
                CancellationToken.None).ConfigureAwait(false);
            // The checkpoint stopped the sandbox: record it as ended by this request.
            await sandboxes.TerminateAsync(session.Id, CancellationToken.None).ConfigureAwait(false);
            var bytes = DirectorySize(directory);
            if (bytes > limits.MaxBytes)
            {
                throw EngineException.Precondition(
                    $"The memory snapshot of sandbox {session.Id} would bring the snapshot store to {bytes >> 20} MiB, above its {limits.MaxBytes >> 20} MiB bound.");
            }

            var record = new MemorySnapshotRecord(snapshotId, session.Id, session.Spec, channel, DateTimeOffset.UtcNow);
            await record.WriteAsync(path, CancellationToken.None).ConfigureAwait(false);
            LogTaken(session.Id, snapshotId, bytes >> 20);
        }
        catch
        {
            await TreeRemoval.DeleteAsync(path, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private string PathOf(string snapshotId) =>
        snapshotId.StartsWith("sn-", StringComparison.Ordinal) && snapshotId.Length == 25 && snapshotId[3..].All(char.IsAsciiLetterOrDigit)
            ? Path.Combine(directory, snapshotId)
            : throw EngineException.NotFound($"Sandbox snapshot '{snapshotId}' not found.");

    private static long DirectorySize(string path) =>
        new DirectoryInfo(path).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).Sum(f => f.Length);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: memory snapshot {SnapshotId} taken ({MiB} MiB in the store)")]
    private partial void LogTaken(string sandboxId, string snapshotId, long miB);

    [LoggerMessage(Level = LogLevel.Information, Message = "Memory snapshot {SnapshotId} restored as sandbox {SandboxId}")]
    private partial void LogRestored(string snapshotId, string sandboxId);
}
