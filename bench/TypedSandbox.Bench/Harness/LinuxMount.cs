using System.ComponentModel;
using System.Runtime.InteropServices;

namespace TypedSandbox.Bench.Harness;

/// <summary>mount(2) and umount2(2), so the raw baseline mounts its overlay the way the engine does: one system call.</summary>
internal static partial class LinuxMount
{
    private const int MntDetach = 2;

    public static void Overlay(IReadOnlyList<string> lowerDirs, string upperDir, string workDir, string target)
    {
        var options = $"lowerdir={string.Join(':', lowerDirs)},upperdir={upperDir},workdir={workDir}";
        if (Mount("overlay", target, "overlay", 0, options) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"mount overlay on {target}");
        }
    }

    /// <summary>Detaches a mount; true when something was mounted there.</summary>
    public static bool Detach(string target) => Umount2(target, MntDetach) == 0;

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Mount(string source, string target, string fileSystemType, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);
}
