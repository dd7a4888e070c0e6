using System.Collections.Concurrent;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Snapshots;

/// <summary>Where an exit snapshot stands.</summary>
/// <param name="ImageId">The image, once committed.</param>
/// <param name="Error">Why there is none, when it failed.</param>
internal sealed record ExitSnapshotState(string? ImageId, string? Error);

/// <summary>
/// Exit snapshots (Modal's experimental option <c>enable_exit_snapshot</c>): such a sandbox writes into an upper
/// directory the engine keeps (not the bundle's, which goes with the sandbox), and when it ends, however it ends, that
/// directory becomes an image over the sandbox's own (as <see cref="FilesystemSnapshots"/> makes them). tmpfs mounts
/// (/tmp) are not part of it; under gVisor, data a process wrote in its last moments before a kill may be missing
/// (gVisor's page cache dies with it). Results are kept for this engine's life.
/// </summary>
internal sealed partial class ExitSnapshots(ImageBuilds images, ImageStore store, string scratchDirectory, ILogger<ExitSnapshots> logger)
{
    private readonly ConcurrentDictionary<string, Task<string>> _snapshots = new(StringComparer.Ordinal);

    /// <summary>Gives the container an engine-kept writable layer (call through <see cref="SandboxManager"/>'s create).</summary>
    public ContainerSpec Prepare(string sandboxId, ContainerSpec container)
    {
        ArgumentNullException.ThrowIfNull(container);
        var layer = LayerDirectory(container.Id);
        var upper = Path.Combine(layer, "upper");
        var work = Path.Combine(layer, "work");
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);
        return container with { WritableLayer = new WritableLayer(upper, work) };
    }

    /// <summary>Commits the sandbox's layer as an image once it has ended (started right after create).</summary>
    public void Watch(SandboxSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var container = session.Container ?? throw new InvalidOperationException("The sandbox has no container.");
        _snapshots[session.Id] = Task.Run(() => CommitAsync(session, container), CancellationToken.None);
    }

    /// <summary>The exit snapshot of a sandbox, waiting up to <paramref name="timeout"/>; null while pending.</summary>
    /// <exception cref="EngineException">The sandbox was created without exit snapshots (INVALID_ARGUMENT) or is unknown (NOT_FOUND).</exception>
    public async Task<ExitSnapshotState?> GetAsync(SandboxSession? session, string sandboxId, TimeSpan timeout, CancellationToken ct)
    {
        if (!_snapshots.TryGetValue(sandboxId, out var snapshot))
        {
            throw session is null
                ? EngineException.NotFound($"Sandbox '{sandboxId}' not found (exit snapshots are kept for the engine's life).")
                : EngineException.Invalid($"Sandbox {sandboxId} was created without experimentalOptions {{ {ExperimentalOptions.EnableExitSnapshot}: true }}.");
        }

        await Task.WhenAny(snapshot, Task.Delay(timeout, ct)).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        if (!snapshot.IsCompleted)
        {
            return null;
        }

        return snapshot.IsCompletedSuccessfully
            ? new ExitSnapshotState(snapshot.Result, null)
            : new ExitSnapshotState(null, snapshot.Exception?.InnerException?.Message ?? "The exit snapshot failed.");
    }

    private async Task<string> CommitAsync(SandboxSession session, IRunningContainer container)
    {
        var layer = LayerDirectory(session.TaskId);
        try
        {
            await session.Completion.ConfigureAwait(false);
            // The overlay must be unmounted before its upper directory moves into the image store.
            await container.TerminateAsync(CancellationToken.None).ConfigureAwait(false);
            var parent = await images.GetReadyAsync(session.Spec.ImageId, CancellationToken.None).ConfigureAwait(false);
            var image = await store.CommitSnapshotAsync(parent, Path.Combine(layer, "upper"), parent.Config, CancellationToken.None).ConfigureAwait(false);
            LogCommitted(session.Id, image.ImageId);
            return image.ImageId;
        }
        finally
        {
            await TreeRemoval.DeleteAsync(layer, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private string LayerDirectory(string taskId) => Path.Combine(scratchDirectory, "exit-" + taskId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: exit snapshot saved as image {ImageId}")]
    private partial void LogCommitted(string sandboxId, string imageId);
}
