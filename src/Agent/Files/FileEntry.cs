using System.Text;
using System.Text.Json;

namespace TypedSandbox.Agent.Files;

/// <summary>
/// One <c>FileInfo</c> as Modal's SDKs parse it: name, path, type (file | directory | symlink), size, mode (the
/// permission bits, st_mode &amp; 07777), permissions (as ls prints them), owner, group, modified_time (Unix seconds)
/// and symlink_target (null unless a symlink). Symlinks describe themselves (lstat), never their target.
/// </summary>
internal static unsafe class FileEntry
{
    private static Dictionary<uint, string>? _users, _groups;

    /// <summary>lstat of <paramref name="path"/>.</summary>
    public static Libc.StatBuffer Lstat(string path)
    {
        Libc.StatBuffer buffer;
        if (Libc.lstat(path, &buffer) != 0) throw FilesystemError.FromErrno("lstat", path);
        return buffer;
    }

    /// <summary>stat of <paramref name="path"/> (symlinks followed); null when nothing is there.</summary>
    public static Libc.StatBuffer? StatOrNull(string path)
    {
        Libc.StatBuffer buffer;
        if (Libc.stat(path, &buffer) == 0) return buffer;
        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        if (errno == Libc.ENOENT) return null;
        throw FilesystemError.FromErrno(errno, "stat", path);
    }

    public static bool IsDirectory(in Libc.StatBuffer s) => (s.Mode & Libc.S_IFMT) == Libc.S_IFDIR;

    public static bool IsSymlink(in Libc.StatBuffer s) => (s.Mode & Libc.S_IFMT) == Libc.S_IFLNK;

    public static bool IsRegular(in Libc.StatBuffer s) => (s.Mode & Libc.S_IFMT) == Libc.S_IFREG;

    public static void Write(Utf8JsonWriter json, string path, string name, in Libc.StatBuffer s)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("path", path);
        json.WriteString("type", IsDirectory(s) ? "directory" : IsSymlink(s) ? "symlink" : "file");
        json.WriteNumber("size", s.Size);
        json.WriteNumber("mode", s.Mode & 0xFFF);
        json.WriteString("permissions", Permissions(s.Mode));
        json.WriteString("owner", Name(ref _users, "/etc/passwd", s.Uid));
        json.WriteString("group", Name(ref _groups, "/etc/group", s.Gid));
        json.WriteNumber("modified_time", s.ModifySeconds);
        if (IsSymlink(s)) json.WriteString("symlink_target", ReadLink(path));
        else json.WriteNull("symlink_target");
        json.WriteEndObject();
    }

    public static string ReadLink(string path)
    {
        var buffer = new byte[4096];
        nint n;
        fixed (byte* p = buffer) n = Libc.readlink(path, p, buffer.Length);
        if (n < 0) throw FilesystemError.FromErrno("readlink", path);
        return Encoding.UTF8.GetString(buffer, 0, (int)n);
    }

    /// <summary>ls-style: type letter then rwx triplets with setuid, setgid and sticky folded in.</summary>
    public static string Permissions(uint mode)
    {
        Span<char> text = stackalloc char[10];
        text[0] = (mode & Libc.S_IFMT) switch
        {
            Libc.S_IFDIR => 'd',
            Libc.S_IFLNK => 'l',
            0x2000 => 'c',
            0x6000 => 'b',
            0x1000 => 'p',
            0xC000 => 's',
            _ => '-',
        };
        const string letters = "rwxrwxrwx";
        for (var i = 0; i < 9; i++) text[1 + i] = (mode & (1u << (8 - i))) != 0 ? letters[i] : '-';
        if ((mode & 0x800) != 0) text[3] = text[3] == 'x' ? 's' : 'S';
        if ((mode & 0x400) != 0) text[6] = text[6] == 'x' ? 's' : 'S';
        if ((mode & 0x200) != 0) text[9] = text[9] == 'x' ? 't' : 'T';
        return new string(text);
    }

    /// <summary>The user or group name from the sandbox's own /etc files (no NSS: images may have no libc);
    /// the number when there is none.</summary>
    private static string Name(ref Dictionary<uint, string>? table, string file, uint id)
    {
        if (table is null)
        {
            table = [];
            try
            {
                foreach (var line in File.ReadLines(file))
                {
                    var fields = line.Split(':');
                    if (fields.Length > 2 && uint.TryParse(fields[2], out var number)) table.TryAdd(number, fields[0]);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return table.TryGetValue(id, out var name) ? name : id.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
