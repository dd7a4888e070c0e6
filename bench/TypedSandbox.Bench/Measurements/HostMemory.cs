using System.Globalization;

namespace TypedSandbox.Bench.Measurements;

/// <summary>Memory readings for the density measurement: the host's MemAvailable and this process's (the engine's) RSS.</summary>
internal static class HostMemory
{
    /// <summary>MemAvailable from /proc/meminfo, in bytes.</summary>
    public static long AvailableBytes() => ReadKilobytes("/proc/meminfo", "MemAvailable:") * 1024;

    /// <summary>This process's resident set (the in-process engine and the bench), in bytes.</summary>
    public static long ProcessRssBytes() => ReadKilobytes("/proc/self/status", "VmRSS:") * 1024;

    /// <summary>Collects garbage and lets the kernel settle, so two readings compare what stays, not what is in flight.</summary>
    public static async Task SettleAsync(CancellationToken cancellationToken)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
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
