using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Named network namespaces made and removed the way <c>ip netns add/del</c> does (a namespace kept alive by a bind
/// mount of its file at <c>/run/netns/&lt;name&gt;</c>), in-process: no helper process on a sandbox's create path.
/// The files are the same, so <c>ip netns exec</c> and <c>ip netns del</c> keep working on them.
/// </summary>
internal static partial class NetworkNamespaceFiles
{
    public const string Directory = "/run/netns";
    private const int CloneNewNet = 0x40000000;
    private const nuint MsBind = 4096, MsRec = 16384, MsShared = 1 << 20;
    private const int MntDetach = 2, EInval = 22;
    private static readonly Lazy<Exception?> SharedDirectory = new(MakeDirectoryShared);

    /// <summary>The path of the namespace file for <paramref name="name"/>.</summary>
    public static string PathOf(string name) => System.IO.Path.Combine(Directory, name);

    /// <summary>Creates an empty network namespace (loopback down, nothing else) and its file.</summary>
    /// <exception cref="ContainerStartException">The namespace could not be made.</exception>
    public static Task CreateAsync(string name)
    {
        if (SharedDirectory.Value is { } failure)
        {
            throw new ContainerStartException($"Preparing {Directory} for network namespaces failed: {failure.Message}", failure);
        }

        var path = PathOf(name);
        using (File.Create(path)) { }
        var made = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // unshare(2) moves the calling thread: a thread of its own, which ends right after, keeps the engine's other
        // threads in the host's namespace. The bind mount keeps the namespace alive after the thread is gone.
        var thread = new Thread(() =>
        {
            try
            {
                if (Unshare(CloneNewNet) != 0)
                {
                    throw Failure("unshare(CLONE_NEWNET)");
                }

                if (Mount("/proc/thread-self/ns/net", path, "none", MsBind, null) != 0)
                {
                    throw Failure($"binding the namespace to {path}");
                }

                made.SetResult();
            }
            catch (Exception e)
            {
                made.SetException(e);
            }
        }, 64 * 1024) { IsBackground = true, Name = "netns " + name };
        thread.Start();
        return RemoveOnFailureAsync(made.Task, path);
    }

    /// <summary>
    /// Creates an empty network namespace kept alive only by the returned descriptor: no file names it, so nothing
    /// (no sweep of another engine on the host, no crash) can leave it behind or take it away. <see cref="Bind"/> names it later.
    /// </summary>
    /// <exception cref="ContainerStartException">The namespace could not be made.</exception>
    public static Task<SafeFileHandle> CreateHeldAsync()
    {
        var made = new TaskCompletionSource<SafeFileHandle>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                if (Unshare(CloneNewNet) != 0)
                {
                    throw Failure("unshare(CLONE_NEWNET)");
                }

                made.SetResult(File.OpenHandle("/proc/thread-self/ns/net"));
            }
            catch (Exception e)
            {
                made.SetException(e);
            }
        }, 64 * 1024) { IsBackground = true, Name = "netns ahead" };
        thread.Start();
        return made.Task;
    }

    /// <summary>The path through which processes the engine starts reach a held namespace (see <see cref="CreateHeldAsync"/>).</summary>
    public static string PathOfHeld(SafeFileHandle held) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"/proc/{Environment.ProcessId}/fd/{held.DangerousGetHandle()}");

    /// <summary>Gives a held namespace the file <paramref name="name"/> (as <see cref="CreateAsync"/> makes it).</summary>
    /// <exception cref="ContainerStartException">The file could not be made or bound.</exception>
    public static void Bind(SafeFileHandle held, string name)
    {
        if (SharedDirectory.Value is { } failure)
        {
            throw new ContainerStartException($"Preparing {Directory} for network namespaces failed: {failure.Message}", failure);
        }

        var path = PathOf(name);
        using (File.Create(path)) { }
        if (Mount(PathOfHeld(held), path, "none", MsBind, null) != 0)
        {
            var error = Failure($"binding the namespace to {path}");
            File.Delete(path);
            throw error;
        }
    }

    private static async Task RemoveOnFailureAsync(Task made, string path)
    {
        try
        {
            await made.ConfigureAwait(false);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Removes a namespace's file (the namespace ends with its last user); false when the unmount failed.</summary>
    public static bool Delete(string name)
    {
        var path = PathOf(name);
        var unmounted = Umount2(path, MntDetach) == 0 || Marshal.GetLastPInvokeError() == EInval;
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            return false;
        }
        return unmounted;
    }

    /// <summary>As ip netns does once: /run/netns a shared mount, so namespace files made later show in every mount namespace.</summary>
    private static Exception? MakeDirectoryShared()
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            if (Mount("none", Directory, "none", MsShared | MsRec, null) == 0)
            {
                return null;
            }

            if (Marshal.GetLastPInvokeError() != EInval)
            {
                return Failure("making it a shared mount");
            }
            // Not a mount point yet: bind it onto itself first.
            if (Mount(Directory, Directory, "none", MsBind | MsRec, null) != 0)
            {
                return Failure("binding it onto itself");
            }

            return Mount("none", Directory, "none", MsShared | MsRec, null) == 0 ? null : Failure("making it a shared mount");
        }
        catch (IOException e)
        {
            return e;
        }
    }

    private static ContainerStartException Failure(string step)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new ContainerStartException($"{step} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    private static partial int Unshare(int flags);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Mount(string source, string target, string fsType, nuint flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);
}
