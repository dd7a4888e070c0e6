using System.Runtime.InteropServices;
using System.Text;

namespace TypedSandbox.Agent;

/// <summary>
/// The in-sandbox half of mountImage/unmountImage under gVisor, run by the engine through <c>runsc exec --cap
/// CAP_SYS_ADMIN</c> (never by the sandbox's own processes, which lack that capability and whose seccomp profile
/// denies mount): one mount or unmount in gVisor's kernel, then exit. The engine has already mounted the image on the
/// host under the sandbox's image share (<see cref="Protocol.AgentLayout.ImageShareMountPoint"/>), which gVisor's
/// gofer serves read-only; this binds one entry of it at the target. Targets are resolved to a descriptor first
/// (symlinks followed inside the sandbox) and mounted as the working directory it becomes, so the path cannot change
/// between the check and the mount. Targets that lead into the agent's directory or the share are refused (a later
/// helper would run files an image put there), and so are /proc and "/".
/// Exit codes: 0 done, 2 invalid target, 3 missing, 4 not what the engine mounted there, 1 anything else.
/// </summary>
internal static unsafe partial class MountHelper
{
    private const int ODirectory = 0x10000, OCloexec = 0x80000;
    private const nuint MsNosuid = 2, MsNodev = 4, MsBind = 0x1000;
    private const int Enoent = 2, Enotdir = 20, MntDetach = 2;

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Mount(string source, string target, string? fsType, nuint flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "fchdir", SetLastError = true)]
    private static partial int Fchdir(int fd);

    [LibraryImport("libc", EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint Readlink(string path, byte* buffer, nuint size);

    /// <summary>Runs <c>mount-image &lt;source&gt; &lt;target&gt;</c>, <c>mount-empty &lt;target&gt; &lt;size&gt;</c> or <c>unmount &lt;target&gt; [source]</c>.</summary>
    public static int Run(string[] args)
    {
        // Not dumpable first, as the agent's PID 1: the sandbox's processes (no CAP_SYS_PTRACE) are refused ptrace and its /proc files.
        Libc.prctl(Libc.PR_SET_DUMPABLE, 0, 0, 0, 0);
        return args switch
        {
            ["mount-image", var source, var target] => MountImage(source, target),
            ["mount-empty", var target, var size] => MountEmpty(target, size),
            ["unmount", var target] => Unmount(target, null),
            ["unmount", var target, var source] => Unmount(target, source),
            _ => Fail(2, "usage: mount-image <source> <target> | mount-empty <target> <size> | unmount <target> [source]"),
        };
    }

    private static int MountImage(string source, string target)
    {
        if (!source.StartsWith(Protocol.AgentLayout.ImageShareMountPoint + "/", StringComparison.Ordinal))
        {
            return Fail(2, $"'{source}' is not in the image share");
        }

        return WithTarget(target, create: true, (here, _) => Mount(source, here, null, MsBind, null) == 0
            ? 0 : Fail(1, $"bind {source}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}"));
    }

    private static int MountEmpty(string target, string size) =>
        WithTarget(target, create: true, (here, _) => Mount("tmpfs", here, "tmpfs", MsNosuid | MsNodev, $"size={size},mode=0755") == 0
            ? 0 : Fail(1, $"tmpfs: {Libc.ErrorText(Marshal.GetLastPInvokeError())}"));

    private static int Unmount(string target, string? source) => WithTarget(target, create: false, (here, resolved) => !IsOurs(resolved, source)
        ? Fail(4, $"'{target}' no longer leads to the image mounted there")
        : Umount2(here, MntDetach) == 0 ? 0 : Fail(1, $"umount {target}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}"));

    // The topmost mount at the resolved path must be the bind of that share entry (an empty directory: a tmpfs).
    private static bool IsOurs(string resolved, string? source)
    {
        string[]? top = null;
        string? shareDevice = null;
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length < 10)
            {
                continue;
            }

            var point = Unescape(fields[4]);
            if (point == resolved)
            {
                top = fields;
            }
            else if (point == Protocol.AgentLayout.ImageShareMountPoint)
            {
                shareDevice = fields[2];
            }
        }

        if (top is null)
        {
            return false;
        }

        return source is null
            ? top[Array.IndexOf(top, "-") + 1] == "tmpfs"
            : top[2] == shareDevice && Unescape(top[3]) == source[Protocol.AgentLayout.ImageShareMountPoint.Length..];
    }

    // mountinfo writes space, tab, newline and backslash as three octal digits after a backslash.
    private static string Unescape(string field)
    {
        var text = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length)
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }

        return text.ToString();
    }

    // Opens the target (creating missing directories when asked), refuses reserved places, runs the action on /proc/self/fd/N.
    private static int WithTarget(string target, bool create, Func<string, string, int> action)
    {
        if (!target.StartsWith('/'))
        {
            return Fail(2, $"'{target}' must be an absolute path");
        }

        if (create && MakeDirectories(target) is { } failed)
        {
            return failed;
        }

        var fd = Libc.open(target, ODirectory | OCloexec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                Enoent => Fail(3, $"'{target}' does not exist in the sandbox"),
                Enotdir => Fail(2, $"'{target}' is not a directory"),
                _ => Fail(1, $"open {target}: {Libc.ErrorText(errno)}"),
            };
        }

        try
        {
            var fdPath = "/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var resolved = ResolvedPath(fdPath);
            foreach (var reserved in new[] { Protocol.AgentLayout.MountPoint, Protocol.AgentLayout.ImageShareMountPoint, "/proc", "/" })
            {
                if (resolved is null || resolved == reserved || (reserved != "/" && resolved.StartsWith(reserved + "/", StringComparison.Ordinal)))
                {
                    return Fail(2, $"'{target}' leads to '{resolved}', where nothing may be mounted");
                }
            }

            // gVisor's mount(2) does not follow /proc/self/fd links (it would mount over the link itself): the
            // descriptor becomes the working directory and the call names ".", which no symlink can redirect.
            return Fchdir(fd) == 0 ? action(".", resolved!) : Fail(1, $"chdir {target}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
        }
        finally
        {
            Libc.close(fd);
        }
    }

    private static int? MakeDirectories(string target)
    {
        var path = "";
        foreach (var part in target.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path += "/" + part;
            if (Libc.mkdir(path, 0b111_101_101) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != 17)
            {
                return errno == Enotdir ? Fail(2, $"'{path}' is not a directory") : Fail(1, $"mkdir {path}: {Libc.ErrorText(errno)}");
            }
        }

        return null;
    }

    private static string? ResolvedPath(string link)
    {
        var buffer = stackalloc byte[4096];
        var length = Readlink(link, buffer, 4096);
        return length is > 0 and < 4096 ? Encoding.UTF8.GetString(buffer, (int)length) : null;
    }

    private static int Fail(int code, string message)
    {
        var bytes = Encoding.UTF8.GetBytes("typedsandbox-mount: " + message + "\n");
        fixed (byte* p = bytes)
        {
            Libc.write(2, p, bytes.Length);
        }

        return code;
    }
}
