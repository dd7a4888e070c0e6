using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace TypedSandbox.Agent.FsTools;

/// <summary>
/// The Watch command: inotify events as JSON lines <c>{"event_type","paths"}</c> on stdout, until stdin closes (the
/// SDK's way to stop) or <c>timeout_secs</c> elapse. Event types are the SDK's: Create, Modify, Remove, Access, and
/// Rename (both sides seen) / RenameFrom / RenameTo, which the SDKs report as Modify.
/// </summary>
internal static unsafe class Watcher
{
    private const int InotifyCloexec = 0x80000;

    public static int Run(string path, bool recursive, IReadOnlySet<string>? filter, int? timeoutSeconds)
    {
        var (status, errno) = FileStatus.Read(path, follow: true);
        if (errno != 0)
        {
            return FsToolsCommand.FailErrno(errno, "path does not exist");
        }

        var root = ResolveReal(path);

        var fd = Libc.inotify_init1(InotifyCloexec);
        if (fd < 0)
        {
            return FsToolsCommand.FailErrno(Marshal.GetLastPInvokeError(), "inotify is not available");
        }

        var mask = Libc.IN_MODIFY | Libc.IN_ATTRIB | Libc.IN_CLOSE_WRITE | Libc.IN_MOVED_FROM | Libc.IN_MOVED_TO |
            Libc.IN_CREATE | Libc.IN_DELETE | Libc.IN_DELETE_SELF | Libc.IN_MOVE_SELF;
        if (filter?.Contains("Access") == true)
        {
            mask |= Libc.IN_ACCESS;
        }

        var watches = new Dictionary<int, string>();
        var added = Watch(fd, root, mask, watches);
        if (added != 0)
        {
            return FsToolsCommand.FailErrno(added, "cannot watch the path");
        }

        if (status.IsDirectory && recursive)
        {
            foreach (var dir in SafeSubdirectories(root))
            {
                Watch(fd, dir, mask, watches);
            }
        }

        var deadline = timeoutSeconds is { } t ? Environment.TickCount64 + t * 1000L : long.MaxValue;
        var buffer = new byte[64 * 1024];
        Span<byte> pollSet = stackalloc byte[16];
        while (true)
        {
            var remaining = deadline == long.MaxValue ? -1 : (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
            if (remaining == 0)
            {
                return 0;
            }

            pollSet.Clear();
            BinaryPrimitives.WriteInt32LittleEndian(pollSet, fd);
            BinaryPrimitives.WriteInt16LittleEndian(pollSet[4..], Libc.POLLIN);
            BinaryPrimitives.WriteInt32LittleEndian(pollSet[8..], 0);
            BinaryPrimitives.WriteInt16LittleEndian(pollSet[12..], Libc.POLLIN);
            int ready;
            fixed (byte* p = pollSet)
            {
                ready = Libc.poll(p, 2, remaining);
            }

            if (ready < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EINTR)
                {
                    continue;
                }

                return FsToolsCommand.FailErrno(Marshal.GetLastPInvokeError(), "poll failed");
            }
            if (ready == 0)
            {
                continue;
            }
            // stdin readable means EOF (or stray input): the client closed it to stop the watch.
            if (BinaryPrimitives.ReadInt16LittleEndian(pollSet[14..]) != 0)
            {
                byte discard;
                if (Libc.read(0, &discard, 1) <= 0)
                {
                    return 0;
                }
            }
            if (BinaryPrimitives.ReadInt16LittleEndian(pollSet[6..]) == 0)
            {
                continue;
            }

            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.read(fd, p, buffer.Length);
            }

            if (n <= 0)
            {
                continue;
            }

            Emit(buffer.AsSpan(0, (int)n), fd, mask, recursive, watches, filter);
        }
    }

    private static void Emit(ReadOnlySpan<byte> events, int fd, uint mask, bool recursive, Dictionary<int, string> watches, IReadOnlySet<string>? filter)
    {
        var lines = new List<(string Type, string[] Paths)>();
        var pendingFrom = new Dictionary<uint, (int Index, string Path)>();
        while (events.Length >= 16)
        {
            var wd = BinaryPrimitives.ReadInt32LittleEndian(events);
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(events[4..]);
            var cookie = BinaryPrimitives.ReadUInt32LittleEndian(events[8..]);
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(events[12..]);
            var name = Encoding.UTF8.GetString(events.Slice(16, length)).TrimEnd('\0');
            events = events[(16 + length)..];
            if (!watches.TryGetValue(wd, out var directory))
            {
                continue;
            }

            if ((bits & Libc.IN_IGNORED) != 0) { watches.Remove(wd); continue; }
            var path = name.Length == 0 ? directory : directory.TrimEnd('/') + "/" + name;

            if ((bits & Libc.IN_CREATE) != 0)
            {
                lines.Add(("Create", [path]));
                if (recursive && (bits & Libc.IN_ISDIR) != 0)
                {
                    Watch(fd, path, mask, watches);
                }
            }
            if ((bits & (Libc.IN_MODIFY | Libc.IN_ATTRIB | Libc.IN_CLOSE_WRITE)) != 0)
            {
                lines.Add(("Modify", [path]));
            }

            if ((bits & (Libc.IN_DELETE | Libc.IN_DELETE_SELF)) != 0)
            {
                lines.Add(("Remove", [path]));
            }

            if ((bits & Libc.IN_ACCESS) != 0)
            {
                lines.Add(("Access", [path]));
            }

            if ((bits & Libc.IN_MOVED_FROM) != 0)
            {
                pendingFrom[cookie] = (lines.Count, path);
                lines.Add(("RenameFrom", [path]));
            }
            if ((bits & Libc.IN_MOVED_TO) != 0)
            {
                if (pendingFrom.Remove(cookie, out var from))
                {
                    lines[from.Index] = ("Rename", [from.Path, path]);
                }
                else
                {
                    lines.Add(("RenameTo", [path]));
                }

                if (recursive && (bits & Libc.IN_ISDIR) != 0)
                {
                    Watch(fd, path, mask, watches);
                }
            }
        }

        var output = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var (type, paths) in lines)
        {
            if (filter is not null && !filter.Contains(type))
            {
                continue;
            }

            using (var writer = new Utf8JsonWriter(output))
            {
                writer.WriteStartObject();
                writer.WriteString("event_type", type);
                writer.WriteStartArray("paths");
                foreach (var p in paths)
                {
                    writer.WriteStringValue(p);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            output.Write("\n"u8);
        }
        if (output.WrittenCount > 0)
        {
            FsToolsCommand.WriteAll(1, output.WrittenSpan.ToArray());
        }
    }

    private static int Watch(int fd, string path, uint mask, Dictionary<int, string> watches)
    {
        var wd = Libc.inotify_add_watch(fd, path, mask);
        if (wd < 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        watches[wd] = path;
        return 0;
    }

    private static IEnumerable<string> SafeSubdirectories(string root)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        try
        {
            return [.. Directory.EnumerateDirectories(root, "*", options)];
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static string ResolveReal(string path)
    {
        try
        {
            var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
            return target?.FullName ?? Path.GetFullPath(path);
        }
        catch (IOException)
        {
            return Path.GetFullPath(path);
        }
    }
}
