using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace TypedSandbox.Agent.FsTools;

/// <summary>
/// Modal's sandbox filesystem helper (`/__modal/.bin/modal-sandbox-fs-tools '&lt;json&gt;'`), answered by the agent
/// binary inside the sandbox, with the sandbox's own permissions. Output formats and error kinds follow what Modal's
/// SDKs parse: FileInfo JSON on stdout, `{"version":1,"error_kind","message"}` on stderr with exit code 1.
/// </summary>
internal static unsafe partial class FsToolsCommand
{
    private const long MaxReadFileSize = 5L * 1024 * 1024 * 1024;

    public static int Run(string[] args)
    {
        if (args.Length != 1)
        {
            return Usage("usage: modal-sandbox-fs-tools <command-json>");
        }

        JsonDocument document;
        try { document = JsonDocument.Parse(args[0]); }
        catch (JsonException e) { return Usage($"invalid command JSON: {e.Message}"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Usage("the command must be a JSON object");
            }

            foreach (var command in document.RootElement.EnumerateObject())
            {
                var arguments = command.Value;
                if (!arguments.TryGetProperty("path", out var pathElement) || pathElement.GetString() is not { Length: > 0 } path)
                {
                    return Usage($"{command.Name}: a path is required");
                }

                return command.Name switch
                {
                    "ReadFile" => ReadFile(path),
                    "WriteFile" => WriteFile(path),
                    "ListFiles" => ListFiles(path),
                    "MakeDirectory" => MakeDirectory(path, Flag(arguments, "parents", true)),
                    "Remove" => Remove(path, Flag(arguments, "recursive", false)),
                    "Stat" => Stat(path),
                    "Watch" => Watcher.Run(path, Flag(arguments, "recursive", false), Filter(arguments), TimeoutSeconds(arguments)),
                    _ => Usage($"unknown command: {command.Name}"),
                };
            }
            return Usage("empty command");
        }
    }

    private static int ReadFile(string path)
    {
        var (status, errno) = FileStatus.Read(path, follow: true);
        if (errno != 0)
        {
            return FailErrno(errno, "path does not exist");
        }

        if (status.IsDirectory)
        {
            return Fail("IsDirectory", "expected a file path");
        }

        if (status.Size > MaxReadFileSize)
        {
            return Fail("FileTooLarge", $"file is {status.Size} bytes, which exceeds the {MaxReadFileSize} byte limit");
        }
        // O_NONBLOCK: opening a FIFO must not hang. What was opened is checked (fstat), not what the path named before:
        // only regular files are read, so a link swapped to /dev/zero or a pipe never streams without end.
        var fd = Libc.openMode(path, Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NONBLOCK, 0);
        if (fd < 0)
        {
            return FailErrno(Marshal.GetLastPInvokeError(), "cannot open the file");
        }

        try
        {
            var (opened, fstatErrno) = FileStatus.Read(fd);
            if (fstatErrno != 0)
            {
                return FailErrno(fstatErrno, "cannot stat the file");
            }

            if (!opened.IsRegular)
            {
                return Fail("InvalidArgument", "expected a regular file (devices, pipes and sockets are not read)");
            }

            if (opened.Size > MaxReadFileSize)
            {
                return Fail("FileTooLarge", $"file is {opened.Size} bytes, which exceeds the {MaxReadFileSize} byte limit");
            }
            // The limit counts bytes actually read: /proc files report size 0 and a file can grow while it is read.
            var rc = Copy(fd, 1, MaxReadFileSize);
            if (rc == TooLong)
            {
                return Fail("FileTooLarge", $"file grew past the {MaxReadFileSize} byte limit while it was read; the output stops at the limit");
            }

            return rc != 0 ? FailErrno(rc, "reading the file failed") : 0;
        }
        finally
        {
            Libc.close(fd);
        }
    }

    private static int WriteFile(string path)
    {
        var (status, errno) = FileStatus.Read(path, follow: true);
        if (errno == 0 && status.IsDirectory)
        {
            return Fail("IsDirectory", "expected a file path");
        }

        var parent = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(parent))
        {
            var (parentStatus, parentErrno) = FileStatus.Read(parent, follow: true);
            if (parentErrno == 0 && !parentStatus.IsDirectory)
            {
                return Fail("AlreadyExists", "a component of the path is not a directory");
            }

            var made = MakeDirectories(parent);
            if (made != 0)
            {
                return FailErrno(made, "cannot create the parent directory");
            }
        }
        // The data goes to a temporary file beside the target that replaces it only at stdin's EOF: an upload the
        // client aborts (it then never sends EOF) leaves the old file as it was, never a partial one.
        var target = ResolveSymlink(path);
        var (existing, existingErrno) = FileStatus.Read(target, follow: true);
        var temporary = Path.Combine(Path.GetDirectoryName(target) ?? "/", $".{Path.GetFileName(target)}.fs-tools-{Environment.ProcessId}.tmp");
        var fd = Libc.openMode(temporary, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x1B6 /* 0666 & ~umask */);
        if (fd < 0)
        {
            return FailErrno(Marshal.GetLastPInvokeError(), "cannot open the file for writing");
        }

        var rc = Copy(0, fd);
        if (rc == 0 && existingErrno == 0)
        {
            // Replacing a file keeps its permissions and owner.
            Libc.fchmod(fd, existing.Mode & 0xFFF);
            Libc.fchown(fd, existing.Uid, existing.Gid);
        }
        if (Libc.close(fd) != 0 && rc == 0)
        {
            rc = Marshal.GetLastPInvokeError();
        }

        if (rc == 0 && Libc.rename(temporary, target) != 0)
        {
            rc = Marshal.GetLastPInvokeError();
        }

        if (rc != 0)
        {
            Libc.unlink(temporary);
        }

        return rc != 0 ? FailErrno(rc, "writing the file failed") : 0;
    }

    /// <summary>Where a write to <paramref name="path"/> lands: through a symlink to its target (the link stays a
    /// link), the path itself otherwise.</summary>
    private static string ResolveSymlink(string path)
    {
        var (status, errno) = FileStatus.Read(path, follow: false);
        if (errno != 0 || !status.IsSymlink)
        {
            return path;
        }

        var resolved = Libc.realpath(path, null);
        if (resolved is not null)
        {
            try { return Marshal.PtrToStringUTF8((nint)resolved) ?? path; }
            finally { Libc.free(resolved); }
        }
        // A dangling link: the file it names, as open(O_CREAT) through the link would create it.
        try
        {
            var link = new FileInfo(path).LinkTarget;
            if (link is null)
            {
                return path;
            }

            return link.StartsWith('/') ? link : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path) ?? "/", link));
        }
        catch (IOException) { return path; }
        catch (UnauthorizedAccessException) { return path; }
    }

    /// <summary>Copies until EOF; returns 0, an errno, or <see cref="TooLong"/> once more than <paramref name="limit"/>
    /// bytes would be copied (at most <paramref name="limit"/> are).</summary>
    private static int Copy(int from, int to, long limit = long.MaxValue)
    {
        var buffer = new byte[256 * 1024];
        var total = 0L;
        fixed (byte* p = buffer)
        {
            while (true)
            {
                // One byte past the limit is read to tell "exactly the limit" from "more".
                var n = Libc.read(from, p, limit - total >= buffer.Length ? buffer.Length : (nint)(limit - total + 1));
                if (n == 0)
                {
                    return 0;
                }

                if (n > 0 && total + n > limit)
                {
                    return TooLong;
                }

                if (n > 0)
                {
                    total += n;
                }

                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Libc.EINTR)
                    {
                        continue;
                    }

                    return errno;
                }
                for (var done = 0L; done < n;)
                {
                    var w = Libc.write(to, p + done, (nint)(n - done));
                    if (w < 0)
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        if (errno == Libc.EINTR)
                        {
                            continue;
                        }

                        return errno;
                    }
                    done += w;
                }
            }
        }
    }

    private static HashSet<string>? Filter(JsonElement arguments) =>
        arguments.TryGetProperty("filter", out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select(e => e.GetString()).OfType<string>()]
            : null;

    private static int? TimeoutSeconds(JsonElement arguments) =>
        arguments.TryGetProperty("timeout_secs", out var value) && value.ValueKind == JsonValueKind.Number ? (int)value.GetDouble() : null;

    private static bool Flag(JsonElement arguments, string name, bool fallback) =>
        arguments.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : fallback;

    internal static int FailErrno(int errno, string message) => errno switch
    {
        Libc.ENOENT => Fail("NotFound", "path does not exist"),
        Libc.ENOTDIR => Fail("NotDirectory", "a component of the path is not a directory"),
        Libc.EACCES or Libc.EPERM => Fail("PermissionDenied", "permission denied"),
        // Read-only mounts (/sys, the agent's own directory, read-only volumes): the SDK's PermissionError.
        Libc.EROFS => Fail("PermissionDenied", "read-only file system"),
        Libc.EISDIR => Fail("IsDirectory", "expected a file path"),
        Libc.EEXIST => Fail("PathAlreadyExists", "path already exists"),
        Libc.ENOTEMPTY => Fail("DirectoryNotEmpty", "directory is not empty"),
        _ => Fail("Io", message, Libc.ErrorText(errno)),
    };

    private static int Fail(string kind, string message, string? detail = null)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", 1);
            writer.WriteString("error_kind", kind);
            writer.WriteString("message", message);
            if (detail is not null)
            {
                writer.WriteString("detail", detail);
            }

            writer.WriteEndObject();
        }
        WriteAll(2, stream.ToArray());
        return 1;
    }

    private static int Usage(string message)
    {
        WriteAll(2, Encoding.UTF8.GetBytes(message + "\n"));
        return 2;
    }

    internal static void WriteAll(int fd, byte[] data)
    {
        fixed (byte* p = data)
        {
            for (var done = 0; done < data.Length;)
            {
                var n = Libc.write(fd, p + done, data.Length - done);
                if (n <= 0)
                {
                    return;
                }

                done += (int)n;
            }
        }
    }

    /// <summary>JSON written to stdout once complete.</summary>
    private sealed class JsonOutput : IDisposable
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new();
        public JsonOutput() => Writer = new Utf8JsonWriter(_buffer);
        public Utf8JsonWriter Writer { get; }

        public void Flush()
        {
            Writer.Flush();
            WriteAll(1, _buffer.WrittenSpan.ToArray());
        }

        public void Dispose() => Writer.Dispose();
    }

    /// <summary>User and group names from the sandbox's /etc/passwd and /etc/group; the number when absent.</summary>
    private sealed class Accounts
    {
        private Dictionary<uint, string>? _users;
        private Dictionary<uint, string>? _groups;

        public string User(uint id) => (_users ??= Load("/etc/passwd")).GetValueOrDefault(id) ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public string Group(uint id) => (_groups ??= Load("/etc/group")).GetValueOrDefault(id) ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        private static Dictionary<uint, string> Load(string file)
        {
            var names = new Dictionary<uint, string>();
            try
            {
                foreach (var line in File.ReadLines(file))
                {
                    var fields = line.Split(':');
                    if (fields.Length > 2 && uint.TryParse(fields[2], System.Globalization.CultureInfo.InvariantCulture, out var id))
                    {
                        names.TryAdd(id, fields[0]);
                    }
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return names;
        }
    }
}
