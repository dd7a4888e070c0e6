using System.Globalization;

namespace TypedSandbox.Server.Engine;

/// <summary>What this host can give sandboxes: its memory and cores, read once (requests above them are refused).</summary>
internal static class HostCapacity
{
    private static readonly Lazy<long> Memory = new(ReadMemoryMiB);

    /// <summary>Total memory in MiB (<c>MemTotal</c> of /proc/meminfo); <see cref="long.MaxValue"/> when unreadable.</summary>
    public static long MemoryMiB => Memory.Value;

    /// <summary>Cores the engine may use (affinity and cgroup quota taken into account by the runtime).</summary>
    public static int Cores => Environment.ProcessorCount;

    private static long ReadMemoryMiB()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                // "MemTotal:       16367084 kB"
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(9).Trim().TrimEnd("kB").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
                {
                    return kib / 1024;
                }
            }
        }
        catch (IOException)
        {
            // Not Linux or no /proc: nothing to check against.
        }

        return long.MaxValue;
    }
}
