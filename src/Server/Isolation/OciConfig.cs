using System.Text.Json.Nodes;

namespace TypedSandbox.Server.Isolation;

/// <summary>Writes a sandbox's OCI runtime config (config.json) from its spec.</summary>
internal static class OciConfig
{
    /// <summary>Where the agent's directory appears inside every sandbox.</summary>
    public const string AgentMountPoint = Agent.Protocol.AgentLayout.MountPoint;

    // Docker's default capability set less CAP_NET_RAW (raw and packet sockets forge traffic; ping works without it
    // through ICMP datagram sockets where the image's ping uses them): enough for package managers and servers.
    private static readonly string[] Capabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    private static readonly string[] MaskedPaths =
    [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    private static readonly string[] ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    public sealed record Inputs(
        ContainerSpec Spec,
        RuntimeFlavor Flavor,
        string RootfsPath,
        string AgentDirectory,
        string EtcDirectory,
        string CgroupsPath,
        string? NetworkNamespacePath,
        SandboxIdRange? Ids,
        string? CompiledSeccomp = null)
    {
        /// <summary>No network namespace entry: the sandbox keeps the one its runtime was started in.</summary>
        public bool InheritNetworkNamespace { get; init; }

        /// <summary>
        /// A user namespace (mapped onto <see cref="Ids"/>) to join instead of making one: the one owning the network
        /// namespace the sandbox joins, so that the sandbox gets a sysfs of its own (<see cref="OwnedNetworkNamespace"/>).
        /// </summary>
        public string? UserNamespacePath { get; init; }
    }

    public static JsonObject Build(Inputs inputs)
    {
        var spec = inputs.Spec;
        var namespaces = new JsonArray
        {
            new JsonObject { ["type"] = "pid" },
            new JsonObject { ["type"] = "ipc" },
            new JsonObject { ["type"] = "uts" },
            new JsonObject { ["type"] = "mount" },
        };
        if (!inputs.InheritNetworkNamespace)
        {
            namespaces.Add(inputs.NetworkNamespacePath is { } netns
                ? new JsonObject { ["type"] = "network", ["path"] = netns }
                : new JsonObject { ["type"] = "network" });
        }

        var linux = new JsonObject
        {
            ["namespaces"] = namespaces,
            ["resources"] = Resources(spec.Limits, inputs.Flavor),
            ["cgroupsPath"] = inputs.CgroupsPath,
            ["maskedPaths"] = Strings(MaskedPaths),
            ["readonlyPaths"] = Strings(ReadonlyPaths),
        };
        if (inputs.Ids is { } ids)
        {
            // Root inside is an unprivileged host id: what a sandbox writes is owned by the range, never by host root.
            namespaces.Insert(0, inputs.UserNamespacePath is { } userns
                ? new JsonObject { ["type"] = "user", ["path"] = userns }
                : new JsonObject { ["type"] = "user" });
            linux["uidMappings"] = IdMappings(ids);
            linux["gidMappings"] = IdMappings(ids);
        }

        // Same profile for every runtime: runsc (with --oci-seccomp) enforces it inside its own kernel. Under crun the
        // same profile usually comes compiled (CompiledSeccompFilter): crun then loads the program instead.
        if (inputs.CompiledSeccomp is null)
        {
            linux["seccomp"] = SeccompProfile.Build(inputs.Flavor);
        }

        var config = new JsonObject
        {
            ["ociVersion"] = "1.0.2",
            ["process"] = new JsonObject
            {
                ["terminal"] = false,
                ["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 },
                // The host's loader runs the agent, so images without a libc work too.
                ["args"] = Strings(Agent.Protocol.AgentLayout.AgentCommand()),
                ["env"] = Strings(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]),
                // The runtime creates a missing cwd (as runc and Docker do), so a sandbox's workdir exists before any exec.
                ["cwd"] = spec.Workdir ?? "/",
                ["capabilities"] = new JsonObject
                {
                    ["bounding"] = Strings(Capabilities),
                    ["effective"] = Strings(Capabilities),
                    ["permitted"] = Strings(Capabilities),
                    ["inheritable"] = new JsonArray(),
                    ["ambient"] = new JsonArray(),
                },
                ["noNewPrivileges"] = true,
            },
            ["root"] = new JsonObject { ["path"] = inputs.RootfsPath, ["readonly"] = false },
            ["hostname"] = spec.Hostname,
            ["mounts"] = Mounts(inputs),
            ["linux"] = linux,
        };
        if (inputs.CompiledSeccomp is { } program)
        {
            config["annotations"] = new JsonObject { [CompiledSeccompFilter.Annotation] = program };
        }

        return config;
    }

    // No tmpfs at /tmp: as in Docker, /tmp is part of the writable layer, so the disk quota bounds it and
    // filesystem snapshots keep it (as Modal's do).
    private static JsonArray Mounts(Inputs inputs)
    {
        var mounts = new JsonArray
        {
            Mount("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
            Mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            Mount("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
            Mount(AgentMountPoint, "bind", inputs.AgentDirectory, ["rbind", "ro", "nosuid", "nodev"]),
            Mount("/etc/hosts", "bind", Path.Combine(inputs.EtcDirectory, "hosts"), ["rbind", "ro", "nosuid", "nodev", "noexec"]),
            Mount("/etc/hostname", "bind", Path.Combine(inputs.EtcDirectory, "hostname"), ["rbind", "ro", "nosuid", "nodev", "noexec"]),
            Mount("/etc/resolv.conf", "bind", Path.Combine(inputs.EtcDirectory, "resolv.conf"), ["rbind", "ro", "nosuid", "nodev", "noexec"]),
        };
        if (inputs.Flavor != RuntimeFlavor.Runsc)
        {
            mounts.Insert(4, Mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]));
            mounts.Add(Mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "relatime", "ro"]));
        }
        foreach (var bind in inputs.Spec.Mounts)
        {
            mounts.Add(Mount(bind.ContainerPath, "bind", bind.HostPath, bind.ReadOnly ? ["rbind", "ro", "nosuid", "nodev"] : ["rbind", "nosuid", "nodev"]));
        }

        return mounts;
    }

    private static JsonObject Resources(ResourceLimits limits, RuntimeFlavor flavor)
    {
        var resources = new JsonObject
        {
            // Only the usual character devices: null, zero, full, random, urandom, tty, ptmx and pseudo-terminals.
            ["devices"] = new JsonArray
            {
                new JsonObject { ["allow"] = false, ["access"] = "rwm" },
                Device(1, 3), Device(1, 5), Device(1, 7), Device(1, 8), Device(1, 9), Device(5, 0), Device(5, 2), Device(136, null),
            },
        };
        if (limits.MemoryBytes is { } memory)
        {
            resources["memory"] = new JsonObject { ["limit"] = memory };
        }

        if (limits.CpuMillicores is { } millicores)
        {
            resources["cpu"] = new JsonObject { ["quota"] = millicores * 100L, ["period"] = 100_000 };
        }

        if (LimitsFor(limits, flavor).Pids is { } pids)
        {
            resources["pids"] = new JsonObject { ["limit"] = pids };
        }

        return resources;
    }

    /// <summary>
    /// The limits the sandbox's cgroups get: as asked, except under runsc. There the host's pids controller counts
    /// gVisor's Sentry and Gofer threads and its stubs, not the sandbox's processes, and hitting the limit ends the whole
    /// sandbox (its Go runtime cannot make a thread). This runsc keeps the host threads it made as work comes and goes:
    /// 100 concurrent execs, eight times over, held ~1,000 host tasks after the first round and ~2,600 after the
    /// eighth (growth slowing), so 512 more than asked ended a sandbox in its third round. It gets
    /// <see cref="RunscPidsHeadroom"/> more.
    /// </summary>
    public static ResourceLimits LimitsFor(ResourceLimits limits, RuntimeFlavor flavor) =>
        flavor == RuntimeFlavor.Runsc && limits.Pids is { } pids ? limits with { Pids = pids + RunscPidsHeadroom } : limits;

    /// <summary>Host tasks a runsc sandbox may have beyond its pids limit (see <see cref="LimitsFor"/>).</summary>
    public const int RunscPidsHeadroom = 4096;

    private static JsonArray IdMappings(SandboxIdRange ids) =>
        [new JsonObject { ["containerID"] = 0, ["hostID"] = ids.HostId, ["size"] = ids.Size }];

    private static JsonObject Device(int major, int? minor)
    {
        var device = new JsonObject { ["allow"] = true, ["type"] = "c", ["major"] = major, ["access"] = "rwm" };
        if (minor is { } m)
        {
            device["minor"] = m;
        }

        return device;
    }

    private static JsonObject Mount(string destination, string type, string source, string[] options) => new()
    {
        ["destination"] = destination,
        ["type"] = type,
        ["source"] = source,
        ["options"] = Strings(options),
    };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);
}
