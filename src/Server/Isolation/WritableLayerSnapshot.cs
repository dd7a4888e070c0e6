namespace TypedSandbox.Server.Isolation;

/// <summary>
/// A point-in-time copy of a running sandbox's overlay upper directory (everything it changed), taken while the
/// sandbox is paused through the OCI runtime's own <c>pause</c>/<c>resume</c> (the cgroup freezer for crun and runc;
/// runsc stops its kernel), so no process writes while it is copied and no file is torn. The copy keeps the overlayfs
/// form the image store stacks as a layer: whiteouts (0:0 character devices), the opaque-directory xattr, ownership,
/// modes, times, symlinks and hard links (<c>cp -a</c>). The sandbox runs on afterwards; it is paused only for the copy.
/// The same paused copy serves directory snapshots (a directory of the merged root): paused, no process can swap a
/// directory for a symlink while cp walks it.
/// </summary>
internal static class WritableLayerSnapshot
{
    public static async Task CopyAsync(SandboxResources resources, string source, string destination, CancellationToken ct)
    {
        if (Path.Exists(destination))
        {
            throw new ArgumentException($"The snapshot destination '{destination}' already exists.", nameof(destination));
        }

        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        var (pauseFile, pauseArguments) = resources.RuntimeCommand(RuntimeCommands.Pause(resources.Flavor, resources.RuntimeRoot, resources.Id));
        await HostCommand.RunCheckedAsync(pauseFile, pauseArguments, ct).ConfigureAwait(false);
        try
        {
            var copy = await HostCommand.RunAsync("cp", ["-a", "--reflink=auto", "--", source, destination], ct).ConfigureAwait(false);
            if (!copy.Succeeded)
            {
                throw new IOException($"Copying the sandbox's changes failed (cp exit code {copy.ExitCode}): {copy.Stderr.Trim()}");
            }
        }
        catch
        {
            await TreeRemoval.DeleteAsync(destination, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        finally
        {
            // Never leave the sandbox frozen, whatever happened to the copy or the caller.
            await resources.RunRuntimeAsync(RuntimeCommands.Resume(resources.Flavor, resources.RuntimeRoot, resources.Id), CancellationToken.None)
                .ConfigureAwait(false);
        }
    }
}
