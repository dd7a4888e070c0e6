using System.Globalization;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// A sandbox's cgroups made by the engine instead of the runtime, for a runtime that runs inside the sandbox's user
/// namespace and so cannot make them (runsc with an open network, see <see cref="UserNamespaceLaunch"/>). Same place
/// (<c>/&lt;parent&gt;/&lt;id&gt;</c> under each controller), same limits as the runtime would write, removed by the
/// same cleanup (<see cref="SandboxResources"/>). cgroup v1 (one hierarchy per controller) and v2 (one tree).
/// </summary>
internal static class EngineCgroups
{
    private const string Root = "/sys/fs/cgroup";
    private const long CpuPeriodMicroseconds = 100_000;

    private static bool IsUnified => File.Exists(Path.Combine(Root, "cgroup.controllers"));

    /// <summary>Makes the cgroups of <paramref name="cgroupsPath"/> with <paramref name="limits"/>.</summary>
    /// <exception cref="ContainerStartException">A cgroup or a limit could not be written.</exception>
    public static void Create(string cgroupsPath, ResourceLimits limits)
    {
        try
        {
            if (IsUnified)
            {
                EnableControllers(cgroupsPath);
                var leaf = Root + cgroupsPath;
                Directory.CreateDirectory(leaf);
                if (limits.MemoryBytes is { } memory)
                {
                    Write(leaf, "memory.max", memory);
                }

                if (limits.CpuMillicores is { } millicores)
                {
                    File.WriteAllText(Path.Combine(leaf, "cpu.max"), Invariant($"{millicores * 100L} {CpuPeriodMicroseconds}"));
                }

                if (limits.Pids is { } pids)
                {
                    Write(leaf, "pids.max", pids);
                }

                return;
            }
            var memoryLeaf = Leaf("memory", cgroupsPath);
            if (limits.MemoryBytes is { } bytes)
            {
                Write(memoryLeaf, "memory.limit_in_bytes", bytes);
            }

            var cpuLeaf = Leaf("cpu", cgroupsPath);
            if (limits.CpuMillicores is { } cores)
            {
                Write(cpuLeaf, "cpu.cfs_period_us", CpuPeriodMicroseconds);
                Write(cpuLeaf, "cpu.cfs_quota_us", cores * 100L);
            }
            var pidsLeaf = Leaf("pids", cgroupsPath);
            if (limits.Pids is { } count)
            {
                Write(pidsLeaf, "pids.max", count);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainerStartException($"Making the sandbox's cgroups {cgroupsPath} failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes <paramref name="totals"/> as the limits of the sandboxes' parent cgroup <paramref name="parent"/> (made when
    /// missing), which every sandbox's cgroups are children of. A bound that is <see cref="long.MaxValue"/> (unknown host)
    /// is left as it is.
    /// </summary>
    /// <exception cref="IOException">A cgroup or a limit could not be written.</exception>
    public static void LimitParent(string parent, SandboxTotals totals)
    {
        var path = "/" + parent.Trim('/');
        if (IsUnified)
        {
            EnableControllers(path + "/sandbox");
            var directory = Root + path;
            WriteBound(directory, "pids.max", totals.Pids);
            WriteBound(directory, "memory.max", totals.MemoryBytes);
            return;
        }

        WriteBound(Leaf("pids", path), "pids.max", totals.Pids);
        WriteBound(Leaf("memory", path), "memory.limit_in_bytes", totals.MemoryBytes);
    }

    private static void WriteBound(string directory, string file, long value)
    {
        if (value != long.MaxValue)
        {
            Write(directory, file, value);
        }
    }

    /// <summary>Moves process <paramref name="pid"/> into every cgroup of <paramref name="cgroupsPath"/> (its children follow).</summary>
    public static void Join(string cgroupsPath, int pid)
    {
        var joined = 0;
        foreach (var hierarchy in Directory.GetDirectories(Root).Append(Root))
        {
            var procs = hierarchy + cgroupsPath + "/cgroup.procs";
            if (!File.Exists(procs))
            {
                continue;
            }

            File.WriteAllText(procs, pid.ToString(CultureInfo.InvariantCulture));
            joined++;
        }
        if (joined == 0)
        {
            throw new ContainerStartException($"No cgroup {cgroupsPath} to join.");
        }
    }

    private static string Leaf(string controller, string cgroupsPath)
    {
        // v1 mounts cpu as "cpu" or "cpu,cpuacct" (with a "cpu" symlink on most systems).
        var leaf = Path.Combine(Root, controller) + cgroupsPath;
        Directory.CreateDirectory(leaf);
        return leaf;
    }

    /// <summary>v2: a controller's files appear in a cgroup only when every ancestor delegates it.</summary>
    private static void EnableControllers(string cgroupsPath)
    {
        var current = Root;
        foreach (var part in cgroupsPath.Trim('/').Split('/')[..^1])
        {
            File.WriteAllText(Path.Combine(current, "cgroup.subtree_control"), "+memory +cpu +pids");
            current = Path.Combine(current, part);
            Directory.CreateDirectory(current);
        }
        File.WriteAllText(Path.Combine(current, "cgroup.subtree_control"), "+memory +cpu +pids");
    }

    private static void Write(string directory, string file, long value) =>
        File.WriteAllText(Path.Combine(directory, file), value.ToString(CultureInfo.InvariantCulture));

    private static string Invariant(FormattableString s) => FormattableString.Invariant(s);
}
