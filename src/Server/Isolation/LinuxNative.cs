using System.Runtime.InteropServices;

namespace TypedSandbox.Server.Isolation;

/// <summary>The few syscalls the engine makes itself (mounting a sandbox's overlay rootfs takes ~1 ms this way).</summary>
internal static partial class LinuxNative
{
    private const int MntDetach = 2;
    private const nuint MsNosuid = 2;
    private const nuint MsNodev = 4;

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountSyscall(string source, string target, string fsType, nuint flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatSyscall(string path, byte[] buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEuid();

    /// <summary>
    /// Mounts an overlay at <paramref name="target"/>: the layers read-only below, a private writable upper; nosuid and
    /// nodev, so nothing a sandbox wrote gains set-id or device powers through the host's view of its rootfs.
    /// </summary>
    public static void MountOverlay(IReadOnlyList<string> lowerDirs, string upperDir, string workDir, string target)
    {
        var options = $"lowerdir={string.Join(':', lowerDirs)},upperdir={upperDir},workdir={workDir}";
        // The kernel takes mount options of at most one page.
        if (options.Length >= 4096)
        {
            throw new ContainerStartException($"The overlay mount options are {options.Length} bytes (limit 4095): too many or too long layer paths.");
        }

        if (MountSyscall("overlay", target, "overlay", MsNosuid | MsNodev, options) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new ContainerStartException($"Mounting the overlay rootfs at {target} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
        }
    }

    /// <summary>Detaches a mount (lazy: succeeds even while a dying sandbox still holds it).</summary>
    public static bool Unmount(string target) => Umount2(target, MntDetach) == 0;

    /// <summary>The inode number of what <paramref name="path"/> leads to (a namespace for /proc/*/ns/*); 0 when it cannot be read.</summary>
    public static ulong InodeOf(string path)
    {
        var stat = new byte[144]; // struct stat on x86-64 and arm64: st_dev, then st_ino
        return StatSyscall(path, stat) == 0 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(stat.AsSpan(8)) : 0;
    }
}
