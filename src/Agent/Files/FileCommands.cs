using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace TypedSandbox.Agent.Files;

/// <summary>The filesystem commands, on raw libc calls so each failure keeps its errno (and so its error kind).</summary>
internal static unsafe class FileCommands
{
    /// <summary>The largest file ReadFile returns; larger ones fail with FileTooLarge (the SDK buffers reads in memory).</summary>
    public const long MaxReadBytes = 100L * 1024 * 1024;
    private const int Chunk = 256 * 1024;

    public static void ReadFile(string path, Stream stdout)
    {
        var fd = Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NONBLOCK, 0);
        if (fd < 0) throw FilesystemError.FromErrno("open", path);
        try
        {
            Libc.StatBuffer s;
            if (Libc.fstat(fd, &s) != 0) throw FilesystemError.FromErrno("fstat", path);
            if (FileEntry.IsDirectory(s)) throw FilesystemError.FromErrno(Libc.EISDIR, "read", path);
            // Devices, pipes and sockets have no end a read could wait for (/dev/zero, a FIFO): refuse them.
            if (!FileEntry.IsRegular(s)) throw new FilesystemError("NotAFile", "Not a regular file", $"read {path}: not a regular file");
            if (s.Size > MaxReadBytes) throw TooLarge(path, s.Size);
            var buffer = new byte[Chunk];
            long total = 0;
            while (true)
            {
                nint n;
                fixed (byte* p = buffer) n = Libc.read(fd, p, buffer.Length);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                    throw FilesystemError.FromErrno("read", path);
                }
                if (n == 0) break;
                total += n;
                // A file growing while it is read (or /proc reporting size 0) still stops at the limit.
                if (total > MaxReadBytes) throw TooLarge(path, total);
                stdout.Write(buffer, 0, (int)n);
            }
        }
        finally
        {
            Libc.close(fd);
        }
    }

    private static FilesystemError TooLarge(string path, long size) =>
        new("FileTooLarge", "File is too large to read", $"read {path}: {size} bytes is more than the limit of {MaxReadBytes} bytes");

    /// <summary>
    /// Writes stdin to <paramref name="path"/>, creating missing parents. The data goes to a temporary file beside it
    /// that replaces the target only at stdin's EOF, so an aborted upload never leaves a partial file. An existing
    /// target keeps its mode and owner; a symlink is written through (its target is replaced).
    /// </summary>
    public static void WriteFile(string path, Stream stdin)
    {
        if (path.EndsWith('/')) throw FilesystemError.FromErrno(Libc.EISDIR, "write", path);
        var parent = ParentOf(path);
        CreateDirectories(parent, path);
        var target = ResolveExisting(path) ?? path;
        var existing = FileEntry.StatOrNull(target);
        if (existing is { } e && FileEntry.IsDirectory(e)) throw FilesystemError.FromErrno(Libc.EISDIR, "write", path);

        var temporary = $"{ParentOf(target).TrimEnd('/')}/.{FilesystemTool.NameOf(target)}.fs-tools-{Environment.ProcessId}.tmp";
        var fd = Libc.open(temporary, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x1B6 /* 0666, less umask */);
        if (fd < 0) throw FilesystemError.FromErrno("open", path);
        var renamed = false;
        try
        {
            var buffer = new byte[Chunk];
            int n;
            while ((n = stdin.Read(buffer, 0, buffer.Length)) > 0) WriteAll(fd, buffer.AsSpan(0, n), path);
            if (existing is { } old)
            {
                Libc.fchmod(fd, old.Mode & 0xFFF);
                Libc.fchown(fd, old.Uid, old.Gid);
            }
            if (Libc.close(fd) != 0) { fd = -1; throw FilesystemError.FromErrno("close", path); }
            fd = -1;
            if (Libc.rename(temporary, target) != 0) throw FilesystemError.FromErrno("rename", path);
            renamed = true;
        }
        finally
        {
            if (fd >= 0) Libc.close(fd);
            if (!renamed) Libc.unlink(temporary);
        }
    }

    private static void WriteAll(int fd, ReadOnlySpan<byte> data, string path)
    {
        fixed (byte* p = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = Libc.write(fd, p + done, data.Length - done);
                if (n >= 0) { done += (int)n; continue; }
                if (Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                throw FilesystemError.FromErrno("write", path);
            }
        }
    }

    /// <summary>The real path of an existing symlink (so writes go through it); null when <paramref name="path"/> is not one.</summary>
    private static string? ResolveExisting(string path)
    {
        Libc.StatBuffer s;
        if (Libc.lstat(path, &s) != 0 || !FileEntry.IsSymlink(s)) return null;
        var resolved = Libc.realpath(path, null);
        if (resolved is null)
        {
            // A dangling link: create the file it names, relative to the link's directory.
            var target = FileEntry.ReadLink(path);
            var full = target.StartsWith('/') ? target : ParentOf(path).TrimEnd('/') + "/" + target;
            CreateDirectories(ParentOf(full), path);
            return full;
        }
        try
        {
            return Marshal.PtrToStringUTF8((nint)resolved);
        }
        finally
        {
            Libc.free(resolved);
        }
    }

    public static void ListFiles(string path, Stream stdout)
    {
        var names = ReadDirectory(path);
        names.Sort(StringComparer.Ordinal);
        var directory = path.EndsWith('/') ? path : path + "/";
        using var json = new Utf8JsonWriter(stdout);
        json.WriteStartArray();
        foreach (var name in names)
        {
            var full = directory + name;
            Libc.StatBuffer s;
            // Removed between readdir and lstat: it is no longer in the directory.
            if (Libc.lstat(full, &s) != 0) continue;
            FileEntry.Write(json, full, name, s);
        }
        json.WriteEndArray();
    }

    public static void Stat(string path, Stream stdout)
    {
        var s = FileEntry.Lstat(path.Length > 1 ? path.TrimEnd('/') : path);
        using var json = new Utf8JsonWriter(stdout);
        FileEntry.Write(json, path, FilesystemTool.NameOf(path), s);
    }

    /// <summary>With <paramref name="parents"/>: mkdir -p (idempotent). Without: the parent must exist and the path must not.</summary>
    public static void MakeDirectory(string path, bool parents)
    {
        if (parents)
        {
            CreateDirectories(path, path);
            return;
        }
        if (Libc.mkdir(path, 0x1FF /* 0777, less umask */) != 0) throw FilesystemError.FromErrno("mkdir", path);
    }

    public static void Remove(string path, bool recursive)
    {
        var s = FileEntry.Lstat(path);
        if (!FileEntry.IsDirectory(s))
        {
            if (Libc.unlink(path) != 0) throw FilesystemError.FromErrno("unlink", path);
            return;
        }
        if (recursive) RemoveTree(path.TrimEnd('/') is { Length: > 0 } p ? p : "/");
        else if (Libc.rmdir(path) != 0) throw FilesystemError.FromErrno("rmdir", path);
    }

    /// <summary>rm -r: never follows a symlink (a link to a directory is removed, not its target's contents).</summary>
    private static void RemoveTree(string directory)
    {
        foreach (var name in ReadDirectory(directory))
        {
            var full = directory == "/" ? "/" + name : directory + "/" + name;
            Libc.StatBuffer s;
            if (Libc.lstat(full, &s) != 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.ENOENT) continue;
                throw FilesystemError.FromErrno("lstat", full);
            }
            if (FileEntry.IsDirectory(s)) RemoveTree(full);
            else if (Libc.unlink(full) != 0 && Marshal.GetLastPInvokeError() != Libc.ENOENT) throw FilesystemError.FromErrno("unlink", full);
        }
        if (Libc.rmdir(directory) != 0 && Marshal.GetLastPInvokeError() != Libc.ENOENT) throw FilesystemError.FromErrno("rmdir", directory);
    }

    private static List<string> ReadDirectory(string path)
    {
        var directory = Libc.opendir(path);
        if (directory == 0) throw FilesystemError.FromErrno("opendir", path);
        try
        {
            var names = new List<string>();
            while (true)
            {
                var entry = Libc.readdir(directory);
                if (entry is null)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != 0) throw FilesystemError.FromErrno(errno, "readdir", path);
                    return names;
                }
                var name = Marshal.PtrToStringUTF8((nint)(entry + 19))!;
                if (name is not "." and not "..") names.Add(name);
            }
        }
        finally
        {
            Libc.closedir(directory);
        }
    }

    /// <summary>mkdir -p of <paramref name="directory"/>; a component that exists as anything but a directory (or a
    /// link to one) is NotDirectory, or PathAlreadyExists when it is the last one.</summary>
    private static void CreateDirectories(string directory, string requested)
    {
        var current = new StringBuilder();
        var components = directory.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < components.Length; i++)
        {
            current.Append('/').Append(components[i]);
            var path = current.ToString();
            if (Libc.mkdir(path, 0x1FF) == 0) continue;
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EEXIST) throw FilesystemError.FromErrno(errno, "mkdir", path);
            var existing = FileEntry.StatOrNull(path);
            if (existing is { } s && FileEntry.IsDirectory(s)) continue;
            var last = i == components.Length - 1 && directory == requested;
            throw last
                ? new FilesystemError("PathAlreadyExists", "File exists", $"mkdir {path}: a file that is not a directory is in the way")
                : FilesystemError.FromErrno(Libc.ENOTDIR, "mkdir", path);
        }
    }

    private static string ParentOf(string path)
    {
        var trimmed = path.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return slash <= 0 ? "/" : trimmed[..slash];
    }
}
