using System.Globalization;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// The engine's entry in <c>/etc/subuid</c> and <c>/etc/subgid</c> (<c>typedsandbox:&lt;start&gt;:65536</c>), the host
/// ids its sandboxes run as. Read when present, otherwise appended to both files at a start no other entry and no host
/// account uses, so the range never overlaps a real user (and tools such as useradd skip it afterwards).
/// </summary>
internal static class SubordinateIds
{
    /// <summary>The owner name of the engine's entry.</summary>
    public const string Owner = "typedsandbox";

    private const int FirstCandidate = 100_000;
    private static readonly TimeSpan LockPatience = TimeSpan.FromSeconds(10);

    /// <summary>Returns the engine's range from <c>/etc/subuid</c> and <c>/etc/subgid</c>, adding it when missing.</summary>
    /// <exception cref="HostNotReadyException">The files disagree, or no free range is left.</exception>
    public static SandboxIdRange Ensure(string etcDirectory = "/etc")
    {
        var subuid = Path.Combine(etcDirectory, "subuid");
        var subgid = Path.Combine(etcDirectory, "subgid");
        // An exclusive flock on /etc/subuid itself: engines starting at once add one entry, not two.
        using var uidFile = LockOrCreate(subuid);
        var uids = Read(uidFile);
        var gids = File.Exists(subgid) ? Read(new MemoryStream(File.ReadAllBytes(subgid))) : [];
        var ownUid = uids.FirstOrDefault(e => e.Owner == Owner);
        var ownGid = gids.FirstOrDefault(e => e.Owner == Owner);
        if (ownUid is not null && ownGid is not null)
        {
            if (ownUid.Start != ownGid.Start || ownUid.Count < SandboxIdRange.DefaultSize || ownGid.Count < SandboxIdRange.DefaultSize)
            {
                throw new HostNotReadyException([
                    $"The '{Owner}' entries of {subuid} ({ownUid.Start}:{ownUid.Count}) and {subgid} ({ownGid.Start}:{ownGid.Count}) must start at the same id and hold at least {SandboxIdRange.DefaultSize} ids; fix or remove both lines."]);
            }

            return new SandboxIdRange(checked((int)ownUid.Start), SandboxIdRange.DefaultSize);
        }

        if (ownUid is not null || ownGid is not null)
        {
            throw new HostNotReadyException([$"Only one of {subuid} and {subgid} has a '{Owner}' entry; add the same line to the other or remove it."]);
        }

        var start = FreeStart([.. uids, .. gids], AccountIds(Path.Combine(etcDirectory, "passwd")).Concat(AccountIds(Path.Combine(etcDirectory, "group"))));
        var line = string.Create(CultureInfo.InvariantCulture, $"{Owner}:{start}:{SandboxIdRange.DefaultSize}\n");
        AppendLine(uidFile, line);
        using (var gidFile = LockOrCreate(subgid))
        {
            AppendLine(gidFile, line);
        }

        return new SandboxIdRange(start, SandboxIdRange.DefaultSize);
    }

    /// <summary>The lowest multiple of 65536 at or above 100000 that no entry and no account id touches.</summary>
    internal static int FreeStart(IReadOnlyCollection<Entry> taken, IEnumerable<long> accountIds)
    {
        var accounts = accountIds.ToList();
        long candidate = RoundUp(FirstCandidate);
        while (candidate + SandboxIdRange.DefaultSize <= int.MaxValue)
        {
            var end = candidate + SandboxIdRange.DefaultSize;
            var clash = taken.Where(e => e.Start < end && e.Start + e.Count > candidate).Select(e => e.Start + e.Count)
                .Concat(accounts.Where(id => id >= candidate && id < end).Select(id => id + 1))
                .DefaultIfEmpty(-1).Max();
            if (clash < 0)
            {
                return (int)candidate;
            }

            candidate = RoundUp(clash);
        }

        throw new HostNotReadyException(["No free range of 65536 host ids below 2^31 is left for the sandboxes; add a 'typedsandbox:<start>:65536' line to /etc/subuid and /etc/subgid."]);
    }

    private static long RoundUp(long id) => (id + SandboxIdRange.DefaultSize - 1) / SandboxIdRange.DefaultSize * SandboxIdRange.DefaultSize;

    /// <summary>One line of /etc/subuid or /etc/subgid.</summary>
    internal sealed record Entry(string Owner, long Start, long Count);

    private static List<Entry> Read(Stream stream)
    {
        var entries = new List<Entry>();
        using var reader = new StreamReader(stream, leaveOpen: true);
        while (reader.ReadLine() is { } line)
        {
            var fields = line.Split(':');
            if (fields.Length == 3
                && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                entries.Add(new Entry(fields[0], start, count));
            }
        }

        return entries;
    }

    private static IEnumerable<long> AccountIds(string path)
    {
        if (!File.Exists(path))
        {
            yield break;
        }

        foreach (var line in File.ReadAllLines(path))
        {
            var fields = line.Split(':');
            if (fields.Length > 2 && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                yield return id;
            }
        }
    }

    private static void AppendLine(FileStream file, string line)
    {
        var needsNewline = file.Length > 0 && ReadLastByte(file) != (byte)'\n';
        file.Seek(0, SeekOrigin.End);
        var bytes = System.Text.Encoding.UTF8.GetBytes((needsNewline ? "\n" : "") + line);
        file.Write(bytes);
        file.Flush(flushToDisk: true);
    }

    private static int ReadLastByte(FileStream file)
    {
        file.Seek(-1, SeekOrigin.End);
        return file.ReadByte();
    }

    /// <summary>Opens (creating 0644 when missing) with an exclusive flock, waiting for another engine that holds it.</summary>
    private static FileStream LockOrCreate(string path)
    {
        var deadline = DateTime.UtcNow + LockPatience;
        while (true)
        {
            try
            {
                var created = !File.Exists(path);
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                if (created)
                {
                    Images.NativeFileSystem.Chmod(path, 0b110_100_100);
                }

                return stream;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }
}
