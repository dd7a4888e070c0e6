using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Starts runsc already inside the sandbox's user namespace, for sandboxes with an open network. runsc (2022, Debian
/// 12) given a user namespace in config.json with host networking joins it after making its mount namespace, and then
/// may not set up its chroot ("error converting mounts: operation not permitted"). Started inside the namespace, with
/// the user namespace left out of config.json, runsc makes every namespace from there: its Sentry and Gofer run as the
/// sandbox's unprivileged host ids, as under crun. The launch is:
/// <c>nsenter --net=&lt;netns&gt; unshare --user --keep-caps sh -c 'read -r _ &lt; FIFO &amp;&amp; exec setpriv --reuid=0 --regid=0 --clear-groups runsc …'</c>
/// (--keep-caps: the new namespace's capabilities survive the exec of sh, whose host uid is not mapped in it, so that
/// setpriv may become the namespace's root):
/// the engine waits until the process is in its new user namespace, writes its id maps (as host root, so no
/// newuidmap), moves it into the cgroups it made (<see cref="EngineCgroups"/>; runsc runs with --ignore-cgroups), then
/// writes the FIFO; only then does runsc start, as root of the namespace. Each step execs in place: one pid throughout.
/// </summary>
internal static partial class UserNamespaceLaunch
{
    /// <summary>The runtime root (state directory) of sandboxes launched this way; commands on them pass --ignore-cgroups.</summary>
    public const string RuntimeRootName = "runsc-userns";

    private const string FifoName = "launch.fifo";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>The FIFO the launch waits on, inside the sandbox's bundle (0600, host root's).</summary>
    public static string FifoPath(string bundle) => Path.Combine(bundle, FifoName);

    /// <summary>Makes the FIFO and returns a handle open on it (read-write: opening never blocks).</summary>
    public static FileStream OpenGate(string bundle)
    {
        var path = FifoPath(bundle);
        if (MakeFifo(path, 0b110_000_000) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new ContainerStartException($"mkfifo {path} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
        return new FileStream(File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite), FileAccess.ReadWrite, bufferSize: 0);
    }

    /// <summary>The runtime's command line <paramref name="runtime"/> prefixed with the launch.</summary>
    public static HostProcessStart Wrap(HostProcessStart runtime, string networkNamespacePath, string bundle) => runtime with
    {
        File = HostCheck.FindExecutable("nsenter") ?? "nsenter",
        Arguments =
        [
            "--net=" + networkNamespacePath, "--", HostCheck.FindExecutable("unshare") ?? "unshare", "--user", "--keep-caps", "--", "/bin/sh", "-c",
            "read -r _ < \"$0\" && exec setpriv --reuid=0 --regid=0 --clear-groups -- \"$@\"", FifoPath(bundle), runtime.File, .. runtime.Arguments,
        ],
    };

    /// <summary>
    /// Once <paramref name="process"/> is in its own user namespace: writes its id maps, moves it into
    /// <paramref name="cgroupsPath"/> and opens the gate. Throws <see cref="ContainerStartException"/> when it never got there.
    /// </summary>
    public static async Task ReleaseAsync(HostProcess process, FileStream gate, SandboxIdRange ids, string cgroupsPath, CancellationToken ct)
    {
        var pid = process.Id;
        var engineNamespace = new FileInfo("/proc/self/ns/user").LinkTarget;
        var waited = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            string? current;
            try
            {
                current = new FileInfo($"/proc/{pid}/ns/user").LinkTarget;
            }
            catch (IOException)
            {
                current = null;
            }
            if (process.HasExited)
            {
                throw new ContainerStartException($"The runtime's launcher ended (exit code {process.ExitCode}) before entering the sandbox's user namespace.");
            }

            if (current is not null && current != engineNamespace)
            {
                break;
            }

            if (waited.Elapsed > Patience)
            {
                throw new ContainerStartException("The runtime's launcher did not enter a user namespace within 10 s.");
            }

            await Task.Delay(1, ct).ConfigureAwait(false);
        }
        var map = string.Create(CultureInfo.InvariantCulture, $"0 {ids.HostId} {ids.Size}\n");
        await File.WriteAllTextAsync($"/proc/{pid}/uid_map", map, ct).ConfigureAwait(false);
        await File.WriteAllTextAsync($"/proc/{pid}/gid_map", map, ct).ConfigureAwait(false);
        EngineCgroups.Join(cgroupsPath, pid);
        await gate.WriteAsync("go\n"u8.ToArray(), ct).ConfigureAwait(false);
        await gate.FlushAsync(ct).ConfigureAwait(false);
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MakeFifo(string path, uint mode);
}
