using System.Runtime.InteropServices;
using System.Text.Json;

namespace TypedSandbox.Agent.FsTools;

/// <summary>The directory operations of the filesystem helper: list, make, remove, stat.</summary>
internal static unsafe partial class FsToolsCommand
{
    private static int ListFiles(string path)
    {
        var (status, errno) = FileStatus.Read(path, follow: true);
        if (errno != 0)
        {
            return FailErrno(errno, "path does not exist");
        }

        if (!status.IsDirectory)
        {
            return Fail("IsFile", "expected a directory path");
        }

        string[] names;
        try
        {
            names = [.. Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
        }
        catch (UnauthorizedAccessException)
        {
            return Fail("PermissionDenied", "permission denied");
        }
        var accounts = new Accounts();
        using var json = new JsonOutput();
        json.Writer.WriteStartArray();
        var directory = Path.GetFullPath(path);
        foreach (var name in names)
        {
            var full = Path.Combine(directory, name);
            var (entry, entryErrno) = FileStatus.Read(full, follow: false);
            if (entryErrno == 0)
            {
                WriteEntry(json.Writer, name, full, entry, accounts);
            }
        }
        json.Writer.WriteEndArray();
        json.Flush();
        return 0;
    }

    private static int MakeDirectory(string path, bool parents)
    {
        if (parents)
        {
            var rc = MakeDirectories(path);
            return rc == 0 ? 0 : FailErrno(rc, "cannot create the directory");
        }
        if (Libc.mkdir(path, 0x1FF) == 0)
        {
            return 0;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            Libc.EEXIST => Fail("PathAlreadyExists", "path already exists"),
            Libc.ENOENT => Fail("NotFound", "parent directory does not exist"),
            _ => FailErrno(errno, "cannot create the directory"),
        };
    }

    private static int Remove(string path, bool recursive)
    {
        var (status, errno) = FileStatus.Read(path, follow: false);
        if (errno != 0)
        {
            return FailErrno(errno, "path does not exist");
        }

        if (!status.IsDirectory)
        {
            return Libc.unlink(path) == 0 ? 0 : FailErrno(Marshal.GetLastPInvokeError(), "cannot remove the file");
        }

        if (!recursive)
        {
            if (Libc.rmdir(path) == 0)
            {
                return 0;
            }

            var rmdirErrno = Marshal.GetLastPInvokeError();
            return rmdirErrno == Libc.ENOTEMPTY ? Fail("DirectoryNotEmpty", "directory is not empty") : FailErrno(rmdirErrno, "cannot remove the directory");
        }
        var treeErrno = RemoveTree(path);
        return treeErrno == 0 ? 0 : FailErrno(treeErrno, "cannot remove the directory");
    }

    /// <summary>rm -r on raw calls so a failure keeps its errno (EROFS, EBUSY...); a symlink is removed, never followed.
    /// Returns 0 or the errno.</summary>
    private static int RemoveTree(string directory)
    {
        string[] names;
        try
        {
            names = [.. Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).OfType<string>()];
        }
        catch (UnauthorizedAccessException)
        {
            return Libc.EACCES;
        }
        catch (DirectoryNotFoundException)
        {
            return 0; // removed meanwhile
        }
        foreach (var name in names)
        {
            var full = Path.Combine(directory, name);
            var (status, errno) = FileStatus.Read(full, follow: false);
            if (errno == Libc.ENOENT)
            {
                continue;
            }

            if (errno != 0)
            {
                return errno;
            }

            var rc = status.IsDirectory ? RemoveTree(full) : Libc.unlink(full) == 0 ? 0 : Marshal.GetLastPInvokeError();
            if (rc != 0 && rc != Libc.ENOENT)
            {
                return rc;
            }
        }
        if (Libc.rmdir(directory) == 0)
        {
            return 0;
        }

        var rmdirErrno = Marshal.GetLastPInvokeError();
        return rmdirErrno == Libc.ENOENT ? 0 : rmdirErrno;
    }

    private static int Stat(string path)
    {
        var (status, errno) = FileStatus.Read(path, follow: false);
        if (errno != 0)
        {
            return FailErrno(errno, "path does not exist");
        }

        using var json = new JsonOutput();
        var trimmed = path.TrimEnd('/');
        WriteEntry(json.Writer, trimmed.Length == 0 ? "/" : Path.GetFileName(trimmed), path, status, new Accounts());
        json.Flush();
        return 0;
    }

    private static void WriteEntry(Utf8JsonWriter writer, string name, string path, FileStatus status, Accounts accounts)
    {
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("path", path);
        writer.WriteString("type", status.Type);
        writer.WriteNumber("size", status.Size);
        writer.WriteNumber("mode", status.Mode);
        writer.WriteString("permissions", Convert.ToString(status.Mode & 0xFFF, 8).PadLeft(4, '0'));
        writer.WriteString("owner", accounts.User(status.Uid));
        writer.WriteString("group", accounts.Group(status.Gid));
        writer.WriteNumber("modified_time", status.ModifiedTime);
        if (status.IsSymlink)
        {
            string? target = null;
            try { target = new FileInfo(path).LinkTarget; }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            if (target is not null)
            {
                writer.WriteString("symlink_target", target);
            }
        }
        writer.WriteEndObject();
    }

    /// <summary>
    /// mkdir -p: every missing component; an existing directory is fine. An existing file is EEXIST when it is the path
    /// itself (Modal's PathAlreadyExists) and ENOTDIR when it stands higher up the path.
    /// </summary>
    private static int MakeDirectories(string path)
    {
        var full = Path.GetFullPath(path);
        var current = "";
        var parts = full.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            current += "/" + parts[i];
            if (Libc.mkdir(current, 0x1FF) == 0)
            {
                continue;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EEXIST)
            {
                return errno;
            }

            var (status, statErrno) = FileStatus.Read(current, follow: true);
            if (statErrno != 0)
            {
                return statErrno;
            }

            if (!status.IsDirectory)
            {
                return i == parts.Length - 1 ? Libc.EEXIST : Libc.ENOTDIR;
            }
        }
        return 0;
    }

    /// <summary>Copies until EOF; returns 0 or the errno.</summary>
    /// <summary><see cref="Copy"/>'s result when the source had more than the limit (not an errno).</summary>
    private const int TooLong = -1;
}
