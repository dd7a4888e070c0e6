using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Isolation;

/// <summary>Memory checkpoints of a running sandbox (see <see cref="Checkpoints"/>).</summary>
internal sealed partial class ContainerHandle : ICheckpointableContainer
{
    /// <inheritdoc/>
    public async Task<AgentChannelState> CheckpointAsync(string imagePath, string upperCopy, CancellationToken ct)
    {
        if (_resources.Flavor != RuntimeFlavor.Runsc)
        {
            throw EngineException.Precondition($"Sandbox {Id} runs under {_resources.Flavor.ToString().ToLowerInvariant()}; memory snapshots need gVisor (create it with experimentalEnableSnapshot).");
        }
        // gVisor cannot save host-network sockets, and an open network here is the host stack inside the sandbox's namespace.
        if (_spec.Network.Mode != NetworkMode.Blocked)
        {
            throw EngineException.Precondition($"Sandbox {Id} has network access; on this engine memory snapshots need a sandbox created with blockNetwork.");
        }

        if (_exited.Task.IsCompleted)
        {
            throw new SandboxEndedException();
        }

        await _snapshotLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Written file data lives in gVisor's page cache until synced; the upper copy is taken from the host.
            await FlushGuestCachesAsync(ct).ConfigureAwait(false);
            var gate = await _channel.QuiesceAsync(ct).ConfigureAwait(false);
            await using (gate.ConfigureAwait(false))
            {
                // The copy pauses the sandbox; the checkpoint follows at once (no frame can reach the agent in between).
                await WritableLayerSnapshot.CopyAsync(_resources, _spec.WritableLayer?.UpperDirectory ?? _resources.UpperDirectory, upperCopy, ct)
                    .ConfigureAwait(false);
                _terminating = true;
                Directory.CreateDirectory(imagePath);
                var result = await _resources.RunRuntimeAsync(RuntimeCommands.Checkpoint(_resources.Flavor, _resources.RuntimeRoot, Id, imagePath), ct)
                    .ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    _terminating = false;
                    throw new ContainerStartException($"runsc checkpoint of sandbox {Id} failed (exit code {result.ExitCode}): {result.Stderr.Trim()}");
                }
                // The agent is gone with the checkpoint: once its last frames are read, the channel's counts are final.
                await _channel.Closed.WaitAsync(ct).ConfigureAwait(false);
                return _channel.Capture();
            }
        }
        finally
        {
            _snapshotLock.Release();
        }
    }
}
