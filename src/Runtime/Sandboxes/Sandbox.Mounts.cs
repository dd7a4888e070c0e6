using Google.Protobuf;
using TypedSandbox.Protocol.CommandRouter;

namespace TypedSandbox;

/// <summary>Filesystem calls of a running sandbox: directory snapshots, image mounts, volume reloads.</summary>
public sealed partial class Sandbox
{
    /// <summary>Saves one directory of the running sandbox as a new image, to mount elsewhere with <see cref="MountImageAsync"/>.</summary>
    /// <param name="path">The absolute path of the directory in the sandbox.</param>
    /// <param name="timeout">How long to wait for the snapshot; 55 s by default.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The image whose root is the directory's content.</returns>
    /// <exception cref="SandboxTimeoutException">The snapshot did not finish in time.</exception>
    /// <exception cref="ProtocolException">The server's answer named no image.</exception>
    public async Task<Image> SnapshotDirectoryAsync(string path, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var budget = timeout ?? TimeSpan.FromSeconds(55);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            var request = new TaskSnapshotDirectoryRequest
            {
                TaskId = await _connection.GetTaskIdAsync(deadline.Token).ConfigureAwait(false),
                Path = ByteString.CopyFromUtf8(path),
                SnapshotId = Guid.NewGuid().ToString(),
                TtlSeconds = 30L * 24 * 3600,
            };
            var response = await _connection.Router.CallAsync("TaskSnapshotDirectory", static (c, r, o) => c.TaskSnapshotDirectoryAsync(r, o),
                request, deadline.Token).ConfigureAwait(false);
            return response.ImageId.Length == 0
                ? throw new ProtocolException("Sandbox snapshot directory response missing `imageId`")
                : Client.Images.FromBuiltId(response.ImageId);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SandboxTimeoutException($"Snapshotting {path} of {SandboxId} did not finish within {budget}.", e);
        }
    }

    /// <summary>Mounts an image's tree read-only at <paramref name="path"/> of the running sandbox.</summary>
    /// <param name="path">The absolute path where the image appears (created when missing).</param>
    /// <param name="image">A built image (from <see cref="SnapshotDirectoryAsync"/> or a build); null mounts an empty writable directory.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidOperationException"><paramref name="image"/> has not been built.</exception>
    public async Task MountImageAsync(string path, Image? image = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (image is not null && image.ImageId is null)
        {
            throw new InvalidOperationException("Image must be built before mounting: build it first.");
        }

        var request = new TaskMountDirectoryRequest
        {
            TaskId = await _connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false),
            Path = ByteString.CopyFromUtf8(path),
            ImageId = image?.ImageId ?? "",
        };
        await _connection.Router.CallAsync("TaskMountDirectory", static (c, r, o) => c.TaskMountDirectoryAsync(r, o), request, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Unmounts what <see cref="MountImageAsync"/> mounted at <paramref name="path"/>.</summary>
    /// <param name="path">The mount path.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task UnmountImageAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var request = new TaskUnmountDirectoryRequest
        {
            TaskId = await _connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false),
            Path = ByteString.CopyFromUtf8(path),
        };
        await _connection.Router.CallAsync("TaskUnmountDirectory", static (c, r, o) => c.TaskUnmountDirectoryAsync(r, o), request, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Makes the sandbox's volumes show their latest state. The local engine shares volumes live between running
    /// sandboxes, so this returns at once; Modal shows another sandbox's writes only after it.
    /// </summary>
    /// <param name="timeout">How long to wait; 55 s by default.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SandboxTimeoutException">The reload did not finish in time.</exception>
    public async Task ReloadVolumesAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var budget = timeout ?? TimeSpan.FromSeconds(55);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            var request = new TaskReloadVolumesRequest { TaskId = await _connection.GetTaskIdAsync(deadline.Token).ConfigureAwait(false) };
            await _connection.Router.CallAsync("TaskReloadVolumes", static (c, r, o) => c.TaskReloadVolumesAsync(r, o), request, deadline.Token)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SandboxTimeoutException($"Reloading the volumes of {SandboxId} did not finish within {budget}.", e);
        }
    }
}
