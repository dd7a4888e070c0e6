using System.Runtime.InteropServices;

namespace TypedSandbox.Server.Mounts;

/// <summary>
/// The new mount API (open_tree, fsopen, fsmount, move_mount, mount_setattr), openat2 and the namespace calls the
/// engine makes to mount into a running sandbox. Syscall numbers of these calls are the same on every architecture.
/// </summary>
internal static partial class MountSyscalls
{
    public const int AtFdCwd = -100;
    public const int AtEmptyPath = 0x1000;
    public const int AtSymlinkNoFollow = 0x100;
    private const uint OpenTreeCloneFlag = 1;
    public const uint OCloexec = 0x80000;
    public const uint OPath = 0x200000;
    public const ulong ResolveNoXdev = 0x01;
    public const ulong ResolveNoMagicLinks = 0x02;
    public const ulong ResolveNoSymlinks = 0x04;
    public const ulong ResolveBeneath = 0x08;
    public const ulong ResolveInRoot = 0x10;
    public const ulong MountAttrReadOnly = 0x1;
    public const ulong MountAttrNoSuid = 0x2;
    public const ulong MountAttrNoDev = 0x4;
    public const int CloneFs = 0x200;
    public const int CloneNewNs = 0x20000;
    public const int Enoent = 2;
    public const int Enotdir = 20;
    public const int Eexist = 17;
    public const int Exdev = 18;
    public const int Eloop = 40;

    private const long SysOpenTree = 428;
    private const long SysMoveMount = 429;
    private const long SysFsOpen = 430;
    private const long SysFsConfig = 431;
    private const long SysFsMount = 432;
    private const long SysOpenat2 = 437;
    private const long SysMountSetattr = 442;
    private const uint MoveMountFromEmptyPath = 0x04;
    private const uint MoveMountToEmptyPath = 0x40;
    private const uint FsConfigSetString = 1;
    private const uint FsConfigCreate = 6;
    private const int MntDetach = 2;
    private const uint StatxMountId = 0x1000;

    /// <summary>O_DIRECTORY differs between x86-64 and arm64.</summary>
    public static uint ODirectory => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 ? 0x4000u : 0x10000u;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a, nint b, nint c, nint d, nint e);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseSyscall(int fd);

    /// <summary>Closes a descriptor (nothing to do when that fails).</summary>
    public static void Close(int fd) => _ = CloseSyscall(fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenSyscall(string path, int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetnsSyscall(int fd, int type);

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    private static partial int UnshareSyscall(int flags);

    [LibraryImport("libc", EntryPoint = "fchdir", SetLastError = true)]
    private static partial int FchdirSyscall(int fd);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountSyscall(string source, string target, string? fsType, nuint flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkdiratSyscall(int dirFd, string path, uint mode);

    [LibraryImport("libc", EntryPoint = "fchownat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FchownatSyscall(int dirFd, string path, uint uid, uint gid, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxSyscall(int dirFd, string path, int flags, uint mask, byte[] buffer);

    /// <summary>Opens a file with <paramref name="flags"/> (O_CLOEXEC added); throws <see cref="MountCallException"/>.</summary>
    public static int Open(string path, uint flags) => Check(OpenSyscall(path, (int)(flags | OCloexec)), "open " + path);

    /// <summary>openat2 with RESOLVE flags; returns the descriptor or the negated errno.</summary>
    public static unsafe int TryOpenat2(int dirFd, string path, uint flags, ulong resolve)
    {
        var how = stackalloc ulong[3];
        how[0] = flags | OCloexec;
        how[1] = 0;
        how[2] = resolve;
        var utf8 = Utf8(path);
        fixed (byte* p = utf8)
        {
            var fd = Syscall(SysOpenat2, dirFd, (nint)p, (nint)how, 24, 0);
            return fd >= 0 ? (int)fd : -Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>A detached copy of the mount tree at <paramref name="path"/> (open_tree with OPEN_TREE_CLONE).</summary>
    public static unsafe int OpenTreeClone(int dirFd, string path, bool emptyPath)
    {
        fixed (byte* p = Utf8(path))
        {
            var flags = OpenTreeCloneFlag | OCloexec | (emptyPath ? (uint)AtEmptyPath : 0);
            return Check((int)Syscall(SysOpenTree, dirFd, (nint)p, (nint)flags, 0, 0), "open_tree " + path);
        }
    }

    /// <summary>A new, detached filesystem of type <paramref name="type"/> configured with string options.</summary>
    public static unsafe int CreateFilesystem(string type, IEnumerable<KeyValuePair<string, string>> options)
    {
        int context;
        fixed (byte* t = Utf8(type))
        {
            context = Check((int)Syscall(SysFsOpen, (nint)t, 1, 0, 0, 0), "fsopen " + type);
        }

        try
        {
            foreach (var (key, value) in options)
            {
                fixed (byte* k = Utf8(key))
                fixed (byte* v = Utf8(value))
                {
                    Check((int)Syscall(SysFsConfig, context, (nint)FsConfigSetString, (nint)k, (nint)v, 0), $"fsconfig {type} {key}");
                }
            }

            Check((int)Syscall(SysFsConfig, context, (nint)FsConfigCreate, 0, 0, 0), "fsconfig create " + type);
            return Check((int)Syscall(SysFsMount, context, 1, 0, 0, 0), "fsmount " + type);
        }
        finally
        {
            Close(context);
        }
    }

    /// <summary>Sets attributes (read-only, nosuid, nodev) on the whole detached tree <paramref name="treeFd"/>.</summary>
    public static unsafe void SetAttributes(int treeFd, ulong attributes)
    {
        var attr = stackalloc ulong[4];
        attr[0] = attributes;
        attr[1] = 0;
        attr[2] = 0;
        attr[3] = 0;
        fixed (byte* p = Utf8(""))
        {
            const int AtRecursive = 0x8000;
            Check((int)Syscall(SysMountSetattr, treeFd, (nint)p, AtEmptyPath | AtRecursive, (nint)attr, 32), "mount_setattr");
        }
    }

    /// <summary>Attaches the detached tree <paramref name="treeFd"/> on the directory <paramref name="targetFd"/>.</summary>
    public static unsafe void MoveMount(int treeFd, int targetFd)
    {
        fixed (byte* p = Utf8(""))
        {
            Check((int)Syscall(SysMoveMount, treeFd, (nint)p, targetFd, (nint)p, (nint)(MoveMountFromEmptyPath | MoveMountToEmptyPath)), "move_mount");
        }
    }

    /// <summary>The id of the mount <paramref name="fd"/> is on (statx STATX_MNT_ID).</summary>
    public static ulong MountIdOf(int fd)
    {
        var buffer = new byte[256];
        Check(StatxSyscall(fd, "", AtEmptyPath, StatxMountId, buffer), "statx");
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(144));
    }

    /// <summary>Owner (uid, gid) of the file <paramref name="fd"/> refers to.</summary>
    public static (uint Uid, uint Gid) OwnerOf(int fd)
    {
        var buffer = new byte[256];
        Check(StatxSyscall(fd, "", AtEmptyPath, 0x8 | 0x10, buffer), "statx");
        return (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(20)),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(24)));
    }

    /// <summary>mkdirat; false when the entry already exists.</summary>
    public static bool MakeDirectory(int dirFd, string name, uint mode)
    {
        if (MkdiratSyscall(dirFd, name, mode) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == Eexist ? false : throw new MountCallException("mkdir " + name, errno);
    }

    /// <summary>fchownat without following a symlink.</summary>
    public static void Chown(int dirFd, string name, uint uid, uint gid) =>
        Check(FchownatSyscall(dirFd, name, uid, gid, AtSymlinkNoFollow), "chown " + name);

    /// <summary>Gives the calling thread its own filesystem context and moves it into the mount namespace <paramref name="nsFd"/>.</summary>
    public static void EnterMountNamespace(int nsFd)
    {
        Check(UnshareSyscall(CloneFs), "unshare(CLONE_FS)");
        Check(SetnsSyscall(nsFd, CloneNewNs), "setns(mount)");
    }

    /// <summary>Detaches the mount whose root directory <paramref name="mountRootFd"/> is (the calling thread's cwd changes).</summary>
    public static void DetachMountAt(int mountRootFd)
    {
        Check(FchdirSyscall(mountRootFd), "fchdir");
        Check(Umount2(".", MntDetach), "umount2");
    }

    /// <summary>Bind-mounts the directory <paramref name="path"/> onto itself and makes that mount shared (MS_BIND, then MS_SHARED).</summary>
    public static void BindSharedOntoItself(string path)
    {
        const nuint MsBind = 0x1000, MsShared = 1 << 20;
        Check(MountSyscall(path, path, null, MsBind, null), "bind " + path);
        Check(MountSyscall("none", path, null, MsShared, null), "make-shared " + path);
    }

    /// <summary>Detaches the mount at <paramref name="path"/> (lazily) without following a final symlink; false when that fails.</summary>
    public static bool Detach(string path) => Umount2(path, MntDetach | 8) == 0;

    private static byte[] Utf8(string value) => System.Text.Encoding.UTF8.GetBytes(value + "\0");

    private static int Check(int result, string call) =>
        result >= 0 ? result : throw new MountCallException(call, Marshal.GetLastPInvokeError());
}

/// <summary>A mount-related system call failed.</summary>
internal sealed class MountCallException(string call, int errno)
    : IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
{
    /// <summary>The errno the call set.</summary>
    public int Errno { get; } = errno;
}
