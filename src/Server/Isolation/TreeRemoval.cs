namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Removes a directory tree a sandbox could shape: any depth (a 5000-level tree is beyond PATH_MAX, where a walk by
/// full paths fails), never following symlinks, and never into another filesystem mounted inside it (a rootfs whose
/// unmount failed). GNU rm walks by descriptor (openat/unlinkat), so it has none of those limits.
/// </summary>
internal static class TreeRemoval
{
    /// <summary>Deletes <paramref name="path"/> and everything under it; throws <see cref="IOException"/> with rm's
    /// message when something stays.</summary>
    public static async Task DeleteAsync(string path, CancellationToken ct)
    {
        if (!Directory.Exists(path) && !File.Exists(path)) return;
        var result = await HostCommand.RunAsync("rm", ["-rf", "--one-file-system", "--", path], ct).ConfigureAwait(false);
        if (!result.Succeeded || Directory.Exists(path))
            throw new IOException($"rm -rf {path} failed (exit code {result.ExitCode}): {result.Stderr.Trim()}");
    }
}
