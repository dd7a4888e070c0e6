using TypedSandbox.Protocol.Client;
using ProtoSandbox = TypedSandbox.Protocol.Client.Sandbox;

namespace TypedSandbox.Sandboxes;

/// <summary>Turns checked <see cref="SandboxCreateOptions"/> into the parts of a create request: the protocol's sandbox
/// definition, its tags and its inline secret sources (also used by an exec's request).</summary>
internal static class SandboxRequestBuilder
{
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
            TimeoutSecs = (uint)(options.Timeout ?? SandboxOptionRules.DefaultTimeout).TotalSeconds,
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
            EnableSnapshot = options.ExperimentalEnableSnapshot,
        };
        SandboxIdentityRequest.Apply(definition, options);
        SandboxNetworkRequest.Apply(definition, options);
        if (options.Runtime is { } runtime)
        {
            definition.Runtime = runtime;
        }
        foreach (var (key, value) in options.ExperimentalOptions ?? new Dictionary<string, string>())
        {
            definition.ExperimentalOptionsV2[key] = value;
        }
        definition.EntrypointArgs.Add(options.Command ?? []);
        definition.PtyInfo = options.Pty?.ToProtocol();
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
            if (volume.SubPath is { } subPath)
            {
                definition.VolumeMounts[^1].SubPath = subPath;
            }
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
        // An empty CIDR list is an allow-list too, as Modal's: nothing leaves, and UpdateNetworkPolicyAsync can open it later.
        if (options.CidrAllowlist is not null || options.DomainAllowlist is { Count: > 0 })
        {
            var access = new NetworkAccess { NetworkAccessType = NetworkAccess.Types.NetworkAccessType.Allowlist };
            access.AllowedCidrs.Add(options.CidrAllowlist ?? []);
            access.AllowedDomains.Add(options.DomainAllowlist ?? []);
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
