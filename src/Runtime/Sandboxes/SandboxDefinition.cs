using TypedSandbox.Errors;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Validation;
using ProtoSandbox = TypedSandbox.Protocol.Client.Sandbox;

namespace TypedSandbox.Sandboxes;

/// <summary>Checks <see cref="SandboxCreateOptions"/> and turns them into the protocol's sandbox definition.</summary>
internal static class SandboxDefinition
{
    /// <summary>The sandbox timeout when none is given (Modal's default).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The longest sandbox timeout Modal allows.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    /// <summary>Rejects options the server would reject, with messages that say what is allowed.</summary>
    /// <exception cref="InvalidArgumentException">An option is out of range or malformed.</exception>
    public static void Validate(SandboxCreateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var timeout = options.Timeout ?? DefaultTimeout;
        WholeSeconds(timeout, "Timeout");
        if (timeout > MaxTimeout)
        {
            throw new InvalidArgumentException($"Timeout {timeout} is longer than the maximum of 24 hours.");
        }
        if (options.IdleTimeout is { } idle)
        {
            WholeSeconds(idle, "IdleTimeout");
            Rules.Enforce(SandboxSettings.CheckIdleTimeout(idle, timeout));
        }
        if (options.Workdir is { } workdir)
        {
            Rules.Enforce(Paths.CheckWorkdir(workdir, "Workdir"));
        }
        if (options.Name is { } name)
        {
            Rules.Enforce(ObjectNames.Check(name, "Sandbox name"));
        }
        foreach (var key in options.Env?.Keys ?? [])
        {
            Rules.Enforce(EnvironmentKeys.Check(key));
        }
        foreach (var (path, volume) in options.Volumes ?? new Dictionary<string, Volume>())
        {
            Rules.Enforce(Paths.CheckMountPath(path));
            ArgumentNullException.ThrowIfNull(volume);
        }
        Rules.Enforce(SandboxSettings.CheckCpu(options.Cpu ?? 0));
        Rules.Enforce(SandboxSettings.CheckCpu(options.CpuLimit ?? 0));
        Rules.Enforce(SandboxSettings.CheckMemoryMb(options.MemoryMiB ?? 0));
        Rules.Enforce(SandboxSettings.CheckMemoryMb(options.MemoryLimitMiB ?? 0));
        if (options.EphemeralDiskMiB is <= 0)
        {
            throw new InvalidArgumentException($"EphemeralDiskMiB ({options.EphemeralDiskMiB}) must be at least 1.");
        }
        if (options.Cpu is { } cpu && options.CpuLimit is { } cpuLimit && cpuLimit < cpu)
        {
            throw new InvalidArgumentException($"CpuLimit ({cpuLimit}) must not be lower than Cpu ({cpu}).");
        }
        if (options.MemoryMiB is { } memory && options.MemoryLimitMiB is { } memoryLimit && memoryLimit < memory)
        {
            throw new InvalidArgumentException($"MemoryLimitMiB ({memoryLimit}) must not be lower than MemoryMiB ({memory}).");
        }
        var ports = (options.EncryptedPorts ?? []).Concat(options.H2Ports ?? []).Concat(options.UnencryptedPorts ?? []).ToList();
        Rules.Enforce(SandboxSettings.CheckNetwork(options.BlockNetwork, options.CidrAllowlist?.Count ?? 0, ports.Count));
        foreach (var cidr in options.CidrAllowlist ?? [])
        {
            if (!System.Net.IPNetwork.TryParse(cidr, out _))
            {
                throw new InvalidArgumentException($"'{cidr}' in CidrAllowlist is not a CIDR range such as 10.0.0.0/8.");
            }
        }
        foreach (var port in ports)
        {
            Rules.Enforce(SandboxSettings.CheckPort(port));
        }
        CheckTags(options.Tags);
    }

    /// <summary>Checks tag keys and values with the shared rules.</summary>
    public static void CheckTags(IReadOnlyDictionary<string, string>? tags)
    {
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            Rules.Enforce(Validation.Tags.CheckKey(key));
            Rules.Enforce(Validation.Tags.CheckValue(key, value));
        }
    }

    /// <summary>Builds the definition sent with SandboxCreate and SandboxCreateV2 (Modal's builder: resources,
    /// network access and open ports are always present).</summary>
    /// <param name="imageId">The built image.</param>
    /// <param name="options">Validated options.</param>
    /// <param name="secretIds">The secret ids to list in the definition.</param>
    public static ProtoSandbox Build(string imageId, SandboxCreateOptions options, IEnumerable<string> secretIds)
    {
        var definition = new ProtoSandbox
        {
            ImageId = imageId,
            TimeoutSecs = (uint)(options.Timeout ?? DefaultTimeout).TotalSeconds,
            Resources = new Resources
            {
                MemoryMb = (uint)(options.MemoryMiB ?? 0),
                MemoryMbMax = (uint)(options.MemoryLimitMiB ?? 0),
                MilliCpu = (uint)Math.Truncate((options.Cpu ?? 0) * 1000),
                MilliCpuMax = (uint)Math.Truncate((options.CpuLimit ?? 0) * 1000),
                EphemeralDiskMb = (uint)(options.EphemeralDiskMiB ?? 0),
                GpuConfig = new GPUConfig(),
            },
            NetworkAccess = BuildNetworkAccess(options),
            OpenPorts = BuildPorts(options),
            Verbose = options.Verbose,
        };
        definition.EntrypointArgs.Add(options.Command ?? []);
        definition.SecretIds.Add(secretIds);
        if (options.Workdir is { } workdir)
        {
            definition.Workdir = workdir;
        }
        if (options.Name is { } name)
        {
            definition.Name = name;
        }
        if (options.IdleTimeout is { } idle)
        {
            definition.IdleTimeoutSecs = (uint)idle.TotalSeconds;
        }
        foreach (var (path, volume) in (options.Volumes ?? new Dictionary<string, Volume>()).OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            definition.VolumeMounts.Add(new VolumeMount
            {
                VolumeId = volume.VolumeId,
                MountPath = path,
                AllowBackgroundCommits = true,
                ReadOnly = volume.IsReadOnly,
            });
        }
        return definition;
    }

    /// <summary>Tags in the protocol's shape, in a stable order.</summary>
    public static IEnumerable<SandboxTag> Tags(IReadOnlyDictionary<string, string>? tags) =>
        (tags ?? new Dictionary<string, string>()).OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => new SandboxTag { TagName = t.Key, TagValue = t.Value });

    /// <summary>The inline secret sources of a V2 create or an exec: each secret in order, then the env values.</summary>
    public static IEnumerable<SecretSource> SecretSources(IReadOnlyList<Secret>? secrets, IReadOnlyDictionary<string, string>? env)
    {
        foreach (var secret in secrets ?? [])
        {
            ArgumentNullException.ThrowIfNull(secret);
            yield return secret.SecretId is { } id ? new SecretSource { SecretId = id } : new SecretSource { Env = StringMap(secret.Values!) };
        }
        if (env is { Count: > 0 })
        {
            yield return new SecretSource { Env = StringMap(env) };
        }
    }

    /// <summary>Modal's rule for exit codes of finished sandboxes: TIMEOUT → 124, TERMINATED → 137, else the exit code.</summary>
    public static int ExitCode(GenericResult result) => result.Status switch
    {
        GenericResult.Types.GenericStatus.Timeout => 124,
        GenericResult.Types.GenericStatus.Terminated => 137,
        _ => result.Exitcode,
    };

    internal static uint WholeSeconds(TimeSpan value, string what)
    {
        if (value <= TimeSpan.Zero || value.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new InvalidArgumentException($"{what} must be a positive whole number of seconds, got {value}.");
        }
        return (uint)value.TotalSeconds;
    }

    internal static void EnsureAbsolute(string path, string what) => Rules.Enforce(Paths.CheckWorkdir(path, what));

    private static StringMap StringMap(IReadOnlyDictionary<string, string> values)
    {
        var map = new StringMap();
        foreach (var (key, value) in values)
        {
            map.Contents[key] = value;
        }
        return map;
    }

    private static NetworkAccess BuildNetworkAccess(SandboxCreateOptions options)
    {
        if (options.BlockNetwork)
        {
            return new NetworkAccess { NetworkAccessType = NetworkAccess.Types.NetworkAccessType.Blocked };
        }
        if (options.CidrAllowlist is { Count: > 0 } cidrs)
        {
            var access = new NetworkAccess { NetworkAccessType = NetworkAccess.Types.NetworkAccessType.Allowlist };
            access.AllowedCidrs.Add(cidrs);
            return access;
        }
        return new NetworkAccess { NetworkAccessType = NetworkAccess.Types.NetworkAccessType.Open };
    }

    private static PortSpecs BuildPorts(SandboxCreateOptions options)
    {
        var ports = new PortSpecs();
        foreach (var port in options.EncryptedPorts ?? [])
        {
            ports.Ports.Add(new PortSpec { Port = (uint)port });
        }
        foreach (var port in options.H2Ports ?? [])
        {
            ports.Ports.Add(new PortSpec { Port = (uint)port, TunnelType = TunnelType.H2 });
        }
        foreach (var port in options.UnencryptedPorts ?? [])
        {
            ports.Ports.Add(new PortSpec { Port = (uint)port, Unencrypted = true });
        }
        return ports;
    }
}
