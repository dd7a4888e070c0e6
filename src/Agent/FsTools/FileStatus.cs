using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace TypedSandbox.Agent.FsTools;

/// <summary>The fields of struct stat (x86-64 layout, 144 bytes) that Modal's FileInfo reports.</summary>
internal readonly record struct FileStatus(uint Mode, uint Uid, uint Gid, long Size, double ModifiedTime)
{
    private const uint TypeMask = 0xF000, Directory = 0x4000, Symlink = 0xA000;

    private const uint Regular = 0x8000;

    public bool IsDirectory => (Mode & TypeMask) == Directory;
    public bool IsRegular => (Mode & TypeMask) == Regular;
    public bool IsSymlink => (Mode & TypeMask) == Symlink;
    public string Type => IsSymlink ? "symlink" : IsDirectory ? "directory" : "file";

    /// <summary>lstat (follow = false) or stat; on failure returns the errno.</summary>
    public static unsafe (FileStatus Status, int Errno) Read(string path, bool follow)
    {
        Span<byte> buffer = stackalloc byte[144];
        int rc;
        fixed (byte* p = buffer)
        {
            rc = follow ? Libc.stat(path, p) : Libc.lstat(path, p);
        }

        return rc != 0 ? (default, Marshal.GetLastPInvokeError()) : (Parse(buffer), 0);
    }

    /// <summary>fstat of an open descriptor (what was opened, not what the path names now); on failure the errno.</summary>
    public static unsafe (FileStatus Status, int Errno) Read(int fd)
    {
        Span<byte> buffer = stackalloc byte[144];
        int rc;
        fixed (byte* p = buffer)
        {
            rc = Libc.fstat(fd, p);
        }

        return rc != 0 ? (default, Marshal.GetLastPInvokeError()) : (Parse(buffer), 0);
    }

    private static FileStatus Parse(ReadOnlySpan<byte> buffer)
    {
        var status = new FileStatus(
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[28..]),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(buffer[48..]),
            BinaryPrimitives.ReadInt64LittleEndian(buffer[88..]) + BinaryPrimitives.ReadInt64LittleEndian(buffer[96..]) / 1e9);
        return status;
    }
}
