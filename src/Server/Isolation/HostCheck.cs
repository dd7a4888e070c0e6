namespace TypedSandbox.Server.Isolation;

/// <summary>Checks, before the first sandbox, that this host can run sandboxes; each problem names its fix.</summary>
internal static class HostCheck
{
    private const string SetupHint = "run scripts/setup-host.sh as root";

    /// <summary>Returns every problem found; empty when the host is ready.</summary>
    public static IReadOnlyList<string> FindProblems(ContainerRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            problems.Add("Sandboxes need Linux (namespaces, cgroups, overlayfs).");
            return problems;
        }
        if (LinuxNative.GetEuid() != 0)
        {
            problems.Add("The engine must run as root to create namespaces, cgroups and overlay mounts.");
        }

        RuntimeFlavor? flavor = null;
        try { flavor = RuntimeCommands.FlavorOf(options.Runtime); }
        catch (ArgumentException e) { problems.Add(e.Message); }
        if (FindExecutable(options.Runtime) is null)
        {
            problems.Add($"The OCI runtime '{options.Runtime}' was not found: apt-get install {Path.GetFileName(options.Runtime)} ({SetupHint}).");
        }

        if (FindExecutable(options.SlirpBinary) is null)
        {
            problems.Add($"'{options.SlirpBinary}' (open networking) was not found: apt-get install slirp4netns ({SetupHint}).");
        }

        if (FindExecutable("ip") is null)
        {
            problems.Add($"'ip' (network namespaces) was not found: apt-get install iproute2 ({SetupHint}).");
        }

        if (!File.ReadAllText("/proc/filesystems").Contains("overlay", StringComparison.Ordinal))
        {
            problems.Add("The kernel has no overlayfs: modprobe overlay.");
        }

        // crun refuses hybrid cgroups while cgroup2 owns a controller ("cgroups in hybrid mode not supported").
        const string unified = "/sys/fs/cgroup/unified/cgroup.controllers";
        if (flavor == RuntimeFlavor.Crun && File.Exists(unified))
        {
            foreach (var controller in File.ReadAllText(unified).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                problems.Add($"crun cannot run while cgroup2 owns the '{controller}' controller on this hybrid cgroup host. Fix (as root; " +
                    $"{SetupHint} does it): mkdir -p /sys/fs/cgroup/{controller} && mount -t cgroup -o {controller} cgroup /sys/fs/cgroup/{controller}");
            }
        }

        var agent = AgentFiles.Locate(options);
        if (!File.Exists(agent))
        {
            problems.Add($"The in-sandbox agent was not found at {agent}. Build src/Server (it publishes src/Agent with NativeAOT; " +
                "needs clang and lld) or set ContainerRuntimeOptions.AgentPath.");
        }
        foreach (var (name, path) in AgentFiles.HostLibraries())
        {
            if (path is null)
            {
                problems.Add($"The host library {name}, which the agent runs on, was not found.");
            }
        }

        return problems;
    }

    /// <summary>Throws <see cref="HostNotReadyException"/> listing every problem, if any.</summary>
    public static void EnsureReady(ContainerRuntimeOptions options)
    {
        var problems = FindProblems(options);
        if (problems.Count > 0)
        {
            throw new HostNotReadyException(problems);
        }
    }

    internal static string? FindExecutable(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(name) ? name : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }
}
