using System.Collections.Concurrent;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// Filesystem snapshots (Modal's <c>snapshotFilesystem</c>): what a running sandbox changed in its root filesystem
/// becomes a new image, one layer over the sandbox's own image, from which new sandboxes start with those files. The
/// sandbox keeps running; it is paused only while its changes are copied (see <c>IRunningContainer.CopyWritableLayerAsync</c>).
/// /tmp is part of the writable layer, so a snapshot keeps it; volumes and images mounted with <c>mountImage</c> are
/// not part of a snapshot. Directory snapshots (<c>snapshotDirectory</c>) copy one directory of the sandbox's root into
/// an image of its own. Snapshot images are kept like any built image (the requested time to live is not enforced: the
/// local image store has no expiry).
/// </summary>
internal sealed partial class FilesystemSnapshots(ImageBuilds images, ImageStore store, string scratchDirectory, ILogger<FilesystemSnapshots> logger)
{
    private readonly ConcurrentDictionary<(string SandboxId, string SnapshotId), Lazy<Task<string>>> _taken = new();

    /// <summary>
    /// Snapshots a running sandbox and returns the new image's id. A repeated <paramref name="snapshotId"/> (a client
    /// retry) returns the same image; an empty one always takes a new snapshot. The snapshot completes even if the
    /// caller stops waiting, so a retry finds it.
    /// </summary>
    /// <exception cref="EngineException">The sandbox has finished (FAILED_PRECONDITION).</exception>
    public async Task<string> SnapshotAsync(SandboxSession session, string? snapshotId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        session.RequireRunning();
        return await OnceAsync(session, snapshotId, () => TakeAsync(session), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Copies the directory at <paramref name="path"/> in a running sandbox's root filesystem into a new image whose root
    /// is that directory's content; returns the image's id. Idempotent per <paramref name="snapshotId"/> as
    /// <see cref="SnapshotAsync"/>.
    /// </summary>
    /// <exception cref="EngineException">A bad path (INVALID_ARGUMENT), a missing directory (NOT_FOUND), a finished sandbox (FAILED_PRECONDITION).</exception>
    public async Task<string> SnapshotDirectoryAsync(SandboxSession session, string path, string? snapshotId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var directory = Mounts.ContainerPaths.Normalize(path, "Snapshot path");
        session.RequireRunning();
        return await OnceAsync(session, "directory:" + snapshotId, () => TakeDirectoryAsync(session, directory), cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> OnceAsync(SandboxSession session, string? snapshotId, Func<Task<string>> take, CancellationToken cancellationToken)
    {
        var key = (session.Id, string.IsNullOrEmpty(snapshotId) || snapshotId == "directory:" ? Guid.NewGuid().ToString("N") : snapshotId);
        var taking = _taken.GetOrAdd(key, k => new Lazy<Task<string>>(take));
        try
        {
            return await taking.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (taking.Value.IsFaulted || taking.Value.IsCanceled)
        {
            // A failed snapshot is not remembered: a retry tries again.
            _taken.TryRemove(new KeyValuePair<(string, string), Lazy<Task<string>>>(key, taking));
            throw;
        }
    }

    private async Task<string> TakeAsync(SandboxSession session)
    {
        var container = session.RequireRunning();
        var parent = await images.GetReadyAsync(session.Spec.ImageId, CancellationToken.None).ConfigureAwait(false);
        var staging = Path.Combine(scratchDirectory, "snapshot-" + ObjectIds.Random(16));
        try
        {
            await container.CopyWritableLayerAsync(staging, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SandboxEndedException)
        {
            throw EngineException.Precondition($"Sandbox {session.Id} finished before its filesystem could be snapshotted.");
        }

        try
        {
            var image = await store.CommitSnapshotAsync(parent, staging, parent.Config, CancellationToken.None).ConfigureAwait(false);
            LogSnapshot(session.Id, image.ImageId);
            return image.ImageId;
        }
        finally
        {
            // The staging copy has the sandbox's tree shape, at any depth.
            await Isolation.TreeRemoval.DeleteAsync(staging, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task<string> TakeDirectoryAsync(SandboxSession session, string directory)
    {
        var staging = Path.Combine(scratchDirectory, "directory-" + ObjectIds.Random(16));
        try
        {
            await Mounts.DirectorySnapshot.CopyAsync(session.RequireRunning(), directory, staging, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SandboxEndedException)
        {
            throw EngineException.Precondition($"Sandbox {session.Id} finished before its directory could be snapshotted.");
        }

        try
        {
            var image = await store.CommitDirectoryAsync(staging, CancellationToken.None).ConfigureAwait(false);
            LogDirectorySnapshot(session.Id, directory, image.ImageId);
            return image.ImageId;
        }
        finally
        {
            await Isolation.TreeRemoval.DeleteAsync(staging, CancellationToken.None).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: directory {Path} saved as image {ImageId}")]
    private partial void LogDirectorySnapshot(string sandboxId, string path, string imageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: filesystem snapshot saved as image {ImageId}")]
    private partial void LogSnapshot(string sandboxId, string imageId);
}
