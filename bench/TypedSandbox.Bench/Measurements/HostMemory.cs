using System.Globalization;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Memory readings for the density measurement: the host's MemAvailable, this process's (the in-process engine's) RSS,
/// the proportional set size of its child processes (the OCI runtime process the engine keeps per sandbox) and the
/// memory charged to the cgroups of their children (the sandboxes).
/// </summary>
internal static class HostMemory
{
    /// <summary>One set of readings, in bytes.</summary>
    public readonly record struct Reading(long Available, long EngineRss, long ChildrenPss, long SandboxCgroups);

    public static Reading Read(string? engineState = null) =>
        new(AvailableBytes(), ReadKilobytes("/proc/self/status", "VmRSS:") * 1024, ChildrenPssBytes(), SandboxCgroupBytes(engineState));

    /// <summary>
    /// Collects garbage and waits until this process's RSS holds still (within 1 MiB over a second, at most 10 s), then
    /// reads: two readings compare what stays, not what is in flight or not yet given back to the system.
    /// </summary>
    public static async Task<Reading> SettleAndReadAsync(CancellationToken cancellationToken, string? engineState = null)
    {
        var previous = long.MinValue;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var rss = ReadKilobytes("/proc/self/status", "VmRSS:") * 1024;
            if (Math.Abs(rss - previous) < 1024 * 1024)
            {
                break;
            }

            previous = rss;
        }

        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        return Read(engineState);
    }

    /// <summary>MemAvailable from /proc/meminfo, in bytes.</summary>
    public static long AvailableBytes() => ReadKilobytes("/proc/meminfo", "MemAvailable:") * 1024;

    /// <summary>The summed PSS of this process's direct children (shared pages counted once across them).</summary>
    private static long ChildrenPssBytes() =>
        ChildrenOf(Environment.ProcessId).Sum(pid => TryReadKilobytes($"/proc/{pid}/smaps_rollup", "Pss:") * 1024);

    /// <summary>
    /// The memory charged to the sandboxes' cgroups (their processes, page cache they touched, kernel memory): those of
    /// this process's grandchildren (a foreground runtime's inits) and, as a detached crun leaves no runtime process,
    /// those of the sandboxes whose bundles are in <paramref name="engineState"/> (the engine's default cgroup parent).
    /// </summary>
    public static long SandboxCgroupBytes(string? engineState)
    {
        var cgroups = new HashSet<string>(StringComparer.Ordinal);
        foreach (var child in ChildrenOf(Environment.ProcessId))
        {
            foreach (var grandchild in ChildrenOf(child))
            {
                if (MemoryCgroupOf(grandchild) is { } cgroup)
                {
                    cgroups.Add(cgroup);
                }
            }
        }

        var bundles = engineState is null ? null : Path.Combine(engineState, "sandboxes", "bundles");
        if (bundles is not null && Directory.Exists(bundles))
        {
            cgroups.UnionWith(Directory.GetDirectories(bundles).Select(bundle => "/typedsandbox/" + Path.GetFileName(bundle)));
        }

        return cgroups.Sum(CgroupBytes);
    }

    /// <summary>memory.usage_in_bytes of a cgroup v1 memory cgroup (children included), or 0 when it is gone.</summary>
    public static long CgroupBytes(string cgroupPath)
    {
        try
        {
            return long.Parse(File.ReadAllText($"/sys/fs/cgroup/memory{cgroupPath}/memory.usage_in_bytes").Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static string? MemoryCgroupOf(int pid)
    {
        try
        {
            // Lines are "id:controllers:path"; the v1 memory hierarchy is the one the runtimes charge here.
            return File.ReadLines($"/proc/{pid}/cgroup").Select(l => l.Split(':', 3))
                .FirstOrDefault(f => f.Length == 3 && f[1].Split(',').Contains("memory"))?[2];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so parse after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while being read.
            }
        }

        return children;
    }

    private static long TryReadKilobytes(string file, string key)
    {
        try
        {
            return ReadKilobytes(file, key);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return 0; // The process ended while being read.
        }
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
