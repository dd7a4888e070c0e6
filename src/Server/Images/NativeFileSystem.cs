using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TypedSandbox.Server.Images;

/// <summary>The few POSIX calls layer unpacking needs that .NET does not expose (ownership, device nodes, xattrs, link).</summary>
internal static class NativeFileSystem
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint SIfChr = 0x2000;
    private const uint SIfBlk = 0x6000;
    private const uint SIfIfo = 0x1000;

    public static void LChown(string path, int uid, int gid) =>
        Check(lchown(path, uid, gid), "lchown", path);

    public static void Chmod(string path, int mode) =>
        Check(chmod(path, (uint)mode), "chmod", path);

    public static void MakeCharDevice(string path, int mode, int major, int minor) =>
        Check(mknod(path, SIfChr | (uint)(mode & 0xFFF), MakeDev(major, minor)), "mknod", path);

    public static void MakeBlockDevice(string path, int mode, int major, int minor) =>
        Check(mknod(path, SIfBlk | (uint)(mode & 0xFFF), MakeDev(major, minor)), "mknod", path);

    public static void MakeFifo(string path, int mode) =>
        Check(mknod(path, SIfIfo | (uint)(mode & 0xFFF), 0), "mknod", path);

    public static void HardLink(string existing, string newPath) =>
        Check(link(existing, newPath), "link", newPath);

    public static void SetXattr(string path, string name, byte[] value) =>
        Check(lsetxattr(path, name, value, (nuint)value.Length, 0), "lsetxattr", path);

    /// <summary>Sets access and modification time without following a final symlink.</summary>
    public static void SetTimes(string path, DateTimeOffset modified)
    {
        var seconds = modified.ToUnixTimeSeconds();
        var nanos = (modified.UtcTicks % TimeSpan.TicksPerSecond) * 100;
        var times = new[] { seconds, nanos, seconds, nanos };
        Check(utimensat(AtFdCwd, path, times, AtSymlinkNoFollow), "utimensat", path);
    }

    /// <summary>Flushes the filesystem that holds <paramref name="handle"/>'s file to disk.</summary>
    public static void SyncFileSystem(SafeFileHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            Check(syncfs((int)handle.DangerousGetHandle()), "syncfs", "state directory");
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    // glibc's gnu_dev_makedev layout.
    private static ulong MakeDev(int major, int minor)
    {
        var ma = (ulong)(uint)major;
        var mi = (ulong)(uint)minor;
        return ((ma & 0xFFFFF000UL) << 32) | ((ma & 0xFFFUL) << 8) | ((mi & 0xFFFFFF00UL) << 12) | (mi & 0xFFUL);
    }

    private static void Check(int result, string call, string path)
    {
        if (result != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"{call} failed for '{path}': {new Win32Exception(errno).Message} (errno {errno}).");
        }
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe blocks enabled project-wide; these calls are cold.
    [DllImport("libc", SetLastError = true)]
    private static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);

    [DllImport("libc", SetLastError = true)]
    private static extern int chmod([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int mknod([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode, ulong dev);

    [DllImport("libc", SetLastError = true)]
    private static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

    [DllImport("libc", SetLastError = true)]
    private static extern int lsetxattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[] value, nuint size, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int utimensat(int dirFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, long[] times, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int syncfs(int fd);
#pragma warning restore SYSLIB1054
}
