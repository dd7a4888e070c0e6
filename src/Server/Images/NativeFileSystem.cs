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

    private const uint SIfMt = 0xF000;
    private const uint SIfDir = 0x4000;
    private const uint SIfLnk = 0xA000;
    private const uint StatxBasicStats = 0x7FF;

    /// <summary>Owner, group and mode (type and permission bits) of <paramref name="path"/>, not following a final symlink.</summary>
    public static (int Uid, int Gid, int Mode) LStat(string path)
    {
        var buffer = new byte[256];
        Check(statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer), "statx", path);
        // struct statx: stx_uid at 20, stx_gid at 24, stx_mode (16 bits) at 28, the same on every architecture.
        return (BitConverter.ToInt32(buffer, 20), BitConverter.ToInt32(buffer, 24), BitConverter.ToUInt16(buffer, 28));
    }

    /// <summary>
    /// Moves ownership of every entry under <paramref name="root"/> (itself included, symlinks not followed) into the
    /// sandboxes' id range: id n becomes <c>HostId + n</c>; entries already in the range are left alone. Set-id bits,
    /// which chown clears, are put back; file capabilities, which chown drops, are not.
    /// </summary>
    public static void ShiftOwnership(string root, Isolation.SandboxIdRange ids)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.TryPop(out var path))
        {
            var (uid, gid, mode) = LStat(path);
            var type = (uint)mode & SIfMt;
            if (!ids.Contains(uid) || !ids.Contains(gid))
            {
                LChown(path, ids.Contains(uid) ? uid : ShiftedId(ids, uid, path), ids.Contains(gid) ? gid : ShiftedId(ids, gid, path));
                if (type != SIfLnk)
                {
                    Chmod(path, mode & 0xFFF);
                }
            }

            if (type == SIfDir)
            {
                foreach (var child in Directory.EnumerateFileSystemEntries(path))
                {
                    pending.Push(child);
                }
            }
        }
    }

    private static int ShiftedId(Isolation.SandboxIdRange ids, int id, string path) =>
        id >= 0 && id < ids.Size
            ? ids.ToHost(id)
            : throw new IOException($"'{path}' is owned by id {(uint)id}, outside the sandboxes' id range 0-{ids.Size - 1}.");

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

    /// <summary>Whether <paramref name="path"/> (not following a final symlink) carries the extended attribute <paramref name="name"/>.</summary>
    public static bool HasXattr(string path, string name) => lgetxattr(path, name, null, 0) >= 0;

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
    private static extern nint lgetxattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[]? value, nuint size);

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

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
#pragma warning restore SYSLIB1054
}
