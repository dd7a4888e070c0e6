using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Mounts;

/// <summary>
/// Copies one directory of a running sandbox's root filesystem (the overlay's merged view on the host, so image files
/// and the sandbox's changes, /tmp included) for <c>snapshotDirectory</c>. The directory is resolved inside the root
/// (<see cref="ContainerPaths"/>, never crossing into another mount) and copied through its descriptor while the
/// sandbox is paused (<see cref="WritableLayerSnapshot"/>). Volumes and mounted images are other mounts: not copied.
/// The copy is bounded by what the sandbox can hold: its image (the image size limit) and its writable layer (the quota).
/// </summary>
internal static class DirectorySnapshot
{
    /// <summary>Copies <paramref name="directory"/> (normalized, absolute) to <paramref name="destination"/>, which must not exist.</summary>
    /// <exception cref="SandboxEndedException">The sandbox has ended.</exception>
    public static async Task CopyAsync(IRunningContainer container, string directory, string destination, CancellationToken ct)
    {
        if (container is not ContainerHandle { Resources: var resources })
        {
            throw EngineException.Precondition("snapshotDirectory needs a sandbox run by an OCI runtime.");
        }

        if (resources.Flavor == RuntimeFlavor.Runsc)
        {
            await FlushGuestCachesAsync(container, ct).ConfigureAwait(false);
        }

        var root = MountSyscalls.Open(resources.RootfsPath, MountSyscalls.OPath | MountSyscalls.ODirectory);
        try
        {
            var source = ContainerPaths.OpenDirectory(root, directory, MountSyscalls.ResolveNoXdev);
            try
            {
                await WritableLayerSnapshot.CopyAsync(resources, $"/proc/{Environment.ProcessId}/fd/{source}/.", destination, ct).ConfigureAwait(false);
            }
            finally
            {
                MountSyscalls.Close(source);
            }
        }
        finally
        {
            MountSyscalls.Close(root);
        }
    }

    // gVisor keeps written file data in its own kernel's page cache; sync(2) inside writes it through to the host.
    private static async Task FlushGuestCachesAsync(IRunningContainer container, CancellationToken ct)
    {
        try
        {
            var sync = await container.ExecAsync(new ProcessSpec(["sync"]), ct).ConfigureAwait(false);
            await using (sync.ConfigureAwait(false))
            {
                await sync.Completion.WaitAsync(ct).ConfigureAwait(false);
            }
        }
        catch (ExecStartException)
        {
            // An image without `sync`: the copy may miss data written in the last moments.
        }
    }
}
