using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace TypedSandbox.Agent.Files;

/// <summary>
/// Watch: inotify events as JSON lines <c>{"event_type", "paths"}</c> on stdout (Create, Modify, Remove, Access,
/// and RenameFrom/RenameTo, which the SDK reports as Modify) until the timeout passes or stdin closes (the SDK closes
/// it when the caller stops iterating). A symlinked path is followed; recursive watches add new subdirectories.
/// </summary>
internal static unsafe class FileWatch
{
    private const uint DirectoryEvents = Libc.IN_ACCESS | Libc.IN_MODIFY | Libc.IN_ATTRIB | Libc.IN_CLOSE_WRITE | Libc.IN_CREATE |
        Libc.IN_DELETE | Libc.IN_DELETE_SELF | Libc.IN_MOVED_FROM | Libc.IN_MOVED_TO | Libc.IN_MOVE_SELF;

    public static int Run(string path, bool recursive, HashSet<string>? filter, int? timeoutSeconds, Stream stdout)
    {
        var root = FileEntry.StatOrNull(path) ?? throw FilesystemError.FromErrno(Libc.ENOENT, "watch", path);
        var inotify = Libc.inotify_init1(Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        if (inotify < 0) throw new FilesystemError("NotSupported", "Watching is not supported here", "inotify_init1: " + Libc.ErrorText(Marshal.GetLastPInvokeError()));
        var watches = new Dictionary<int, string>();
        var basePath = path.Length > 1 ? path.TrimEnd('/') : path;
        Add(inotify, watches, basePath, recursive && FileEntry.IsDirectory(root), mustSucceed: true);

        var deadline = timeoutSeconds is { } t ? Environment.TickCount64 + t * 1000L : long.MaxValue;
        var buffer = new byte[64 * 1024];
        var fds = stackalloc Libc.PollFd[2];
        var stdinOpen = true;
        while (true)
        {
            var remaining = deadline - Environment.TickCount64;
            if (remaining <= 0) return 0;
            fds[0] = new Libc.PollFd { Fd = inotify, Events = Libc.POLLIN };
            fds[1] = new Libc.PollFd { Fd = stdinOpen ? 0 : -1, Events = Libc.POLLIN };
            var ready = Libc.poll(fds, 2, (int)Math.Min(remaining, 1000));
            if (ready < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                throw FilesystemError.FromErrno("poll", path);
            }
            if (stdinOpen && (fds[1].ReturnedEvents & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) != 0)
            {
                // Any input or EOF on stdin means the caller is done watching.
                return 0;
            }
            if ((fds[0].ReturnedEvents & Libc.POLLIN) == 0) continue;
            nint n;
            fixed (byte* p = buffer) n = Libc.read(inotify, p, buffer.Length);
            if (n <= 0) continue;
            Dispatch(buffer.AsSpan(0, (int)n), inotify, watches, recursive, filter, stdout);
            stdout.Flush();
        }
    }

    private static void Dispatch(ReadOnlySpan<byte> events, int inotify, Dictionary<int, string> watches, bool recursive, HashSet<string>? filter, Stream stdout)
    {
        while (events.Length >= 16)
        {
            var wd = BinaryPrimitives.ReadInt32LittleEndian(events);
            var mask = BinaryPrimitives.ReadUInt32LittleEndian(events[4..]);
            var length = BinaryPrimitives.ReadInt32LittleEndian(events[12..]);
            var nameBytes = events.Slice(16, length);
            var nul = nameBytes.IndexOf((byte)0);
            var name = Encoding.UTF8.GetString(nul >= 0 ? nameBytes[..nul] : nameBytes);
            events = events[(16 + length)..];

            if ((mask & Libc.IN_IGNORED) != 0) { watches.Remove(wd); continue; }
            if (!watches.TryGetValue(wd, out var directory)) continue;
            var full = name.Length == 0 ? directory : directory == "/" ? "/" + name : directory + "/" + name;
            if (recursive && (mask & Libc.IN_ISDIR) != 0 && (mask & (Libc.IN_CREATE | Libc.IN_MOVED_TO)) != 0)
                Add(inotify, watches, full, recursive: true, mustSucceed: false);
            var kind = Kind(mask);
            if (kind is null || (filter is not null && !filter.Contains(kind))) continue;
            using var json = new Utf8JsonWriter(stdout);
            json.WriteStartObject();
            json.WriteString("event_type", kind);
            json.WriteStartArray("paths");
            json.WriteStringValue(full);
            json.WriteEndArray();
            json.WriteEndObject();
            json.Flush();
            stdout.WriteByte((byte)'\n');
        }
    }

    private static string? Kind(uint mask) =>
        (mask & Libc.IN_CREATE) != 0 ? "Create"
        : (mask & (Libc.IN_DELETE | Libc.IN_DELETE_SELF)) != 0 ? "Remove"
        : (mask & Libc.IN_MOVED_FROM) != 0 ? "RenameFrom"
        : (mask & Libc.IN_MOVED_TO) != 0 ? "RenameTo"
        : (mask & (Libc.IN_MODIFY | Libc.IN_ATTRIB | Libc.IN_CLOSE_WRITE | Libc.IN_MOVE_SELF)) != 0 ? "Modify"
        : (mask & Libc.IN_ACCESS) != 0 ? "Access"
        : (mask & Libc.IN_Q_OVERFLOW) != 0 ? "Unknown"
        : null;

    private static void Add(int inotify, Dictionary<int, string> watches, string path, bool recursive, bool mustSucceed)
    {
        var wd = Libc.inotify_add_watch(inotify, path, DirectoryEvents);
        if (wd < 0)
        {
            if (mustSucceed) throw FilesystemError.FromErrno("inotify_add_watch", path);
            return;
        }
        watches[wd] = path;
        if (!recursive) return;
        var directory = Libc.opendir(path);
        if (directory == 0) return;
        var children = new List<string>();
        try
        {
            byte* entry;
            while ((entry = Libc.readdir(directory)) is not null)
            {
                // d_type 4 = DT_DIR; symlinks to directories are not descended, like inotify-based watchers do.
                if (entry[18] != 4) continue;
                var name = Marshal.PtrToStringUTF8((nint)(entry + 19))!;
                if (name is not "." and not "..") children.Add(path == "/" ? "/" + name : path + "/" + name);
            }
        }
        finally
        {
            Libc.closedir(directory);
        }
        foreach (var child in children) Add(inotify, watches, child, recursive: true, mustSucceed: false);
    }
}
