using System.Globalization;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Memory readings for the density measurement: the host's MemAvailable, this process's (the in-process engine's) RSS,
/// and the proportional set size of its child processes (the OCI runtime process the engine keeps per sandbox).
/// </summary>
internal static class HostMemory
{
    /// <summary>One set of readings, in bytes.</summary>
    public readonly record struct Reading(long Available, long EngineRss, long ChildrenPss);

    public static Reading Read() => new(AvailableBytes(), ReadKilobytes("/proc/self/status", "VmRSS:") * 1024, ChildrenPssBytes());

    /// <summary>Collects garbage and lets the kernel settle, then reads: two readings compare what stays, not what is in flight.</summary>
    public static async Task<Reading> SettleAndReadAsync(CancellationToken cancellationToken)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        return Read();
    }

    /// <summary>MemAvailable from /proc/meminfo, in bytes.</summary>
    public static long AvailableBytes() => ReadKilobytes("/proc/meminfo", "MemAvailable:") * 1024;

    /// <summary>The summed PSS of this process's direct children (shared pages counted once across them).</summary>
    private static long ChildrenPssBytes()
    {
        var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        long total = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(dir);
            if (!char.IsAsciiDigit(pid[0]))
            {
                continue;
            }

            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so parse after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[1] == self)
                {
                    total += ReadKilobytes(Path.Combine(dir, "smaps_rollup"), "Pss:") * 1024;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // The process ended while being read.
            }
        }

        return total;
    }

    private static long ReadKilobytes(string file, string key)
    {
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{key} not found in {file}.");
    }
}
