using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Where a restored sandbox starts from: runsc's checkpoint image (memory, processes, tmpfs mounts), a copy of the
/// sandbox's overlay upper directory (its root filesystem changes) and the agent channel's state.
/// </summary>
/// <param name="ImagePath">The directory <c>runsc checkpoint --image-path</c> wrote.</param>
/// <param name="UpperSeed">The copy of the writable layer, in overlayfs form; copied into the new sandbox's upper directory.</param>
/// <param name="Channel">The engine end of the agent channel when the checkpoint was taken.</param>
internal sealed record CheckpointRestore(string ImagePath, string UpperSeed, AgentChannelState Channel);

/// <summary>A running sandbox that can save its whole state (gVisor only).</summary>
internal interface ICheckpointableContainer
{
    /// <summary>
    /// Saves the sandbox's memory and processes to <paramref name="imagePath"/> and its root filesystem changes to
    /// <paramref name="upperCopy"/> (two directories that must not exist yet). The sandbox ends: this runsc cannot keep
    /// it running after a checkpoint.
    /// </summary>
    /// <exception cref="Engine.EngineException">The sandbox cannot be checkpointed (FAILED_PRECONDITION, says why).</exception>
    /// <exception cref="SandboxEndedException">The sandbox has ended.</exception>
    Task<AgentChannelState> CheckpointAsync(string imagePath, string upperCopy, CancellationToken ct);
}

/// <summary>
/// Memory checkpoints with runsc. The restored bundle is the same bundle the original had but for its id: the same
/// image layers under the same mount points, the same config (mounts, user namespace mapping, limits, hostname), a
/// fresh blocked network namespace (nothing in it to carry over), new cgroups and a new upper directory seeded from the
/// copy. The agent keeps its frame key; the engine resumes the channel with the sequence numbers it stopped at.
/// </summary>
internal static class Checkpoints
{
    /// <summary>Copies the saved writable layer into the new sandbox's (empty) upper directory, keeping overlayfs form.</summary>
    public static async Task SeedUpperAsync(CheckpointRestore restore, string upper, CancellationToken ct)
    {
        var copy = await HostCommand.RunAsync("cp", ["-a", "--reflink=auto", "--", restore.UpperSeed + "/.", upper], ct).ConfigureAwait(false);
        if (!copy.Succeeded)
        {
            throw new ContainerStartException($"Seeding the restored sandbox's filesystem failed (cp exit code {copy.ExitCode}): {copy.Stderr.Trim()}");
        }
    }
}
