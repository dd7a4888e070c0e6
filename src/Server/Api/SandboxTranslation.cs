using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Validation;

namespace TypedSandbox.Server.Api;

/// <summary>Protocol messages ↔ engine records for sandboxes: the only place that knows both.</summary>
internal static class SandboxTranslation
{
    /// <summary>Builds the engine's spec from a create request's definition, resolving secrets into environment variables.</summary>
    public static async Task<SandboxSpec> ToSpecAsync(
        string appId, Sandbox definition, IEnumerable<SandboxTag> tags, IEnumerable<SecretSource> secretSources,
        SecretStore secrets, bool v2, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(appId))
        {
            throw EngineException.Invalid("app_id is required: look the app up first (AppGetOrCreate).");
        }

        if (string.IsNullOrEmpty(definition.ImageId))
        {
            throw EngineException.Invalid("The sandbox definition has no image_id: build the image first (ImageGetOrCreate).");
        }

        var sources = ToSources(secretSources).ToList();
        // V1 clients (and V2 named secrets already listed in secret_sources) send ids here.
        var sourced = sources.OfType<EnvironmentSource.Secret>().Select(s => s.SecretId).ToHashSet(StringComparer.Ordinal);
        sources.AddRange(definition.SecretIds.Where(id => !sourced.Contains(id)).Select(id => new EnvironmentSource.Secret(id)));
        if (definition.EnvironmentVariables is { } variables)
        {
            sources.Add(new EnvironmentSource.Inline(variables.Contents));
        }

        var environment = await EnvironmentSource.ResolveAsync(sources, secrets, cancellationToken).ConfigureAwait(false);

        var tagMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            if (!tagMap.TryAdd(tag.TagName, tag.TagValue))
            {
                throw EngineException.Invalid($"Tag '{tag.TagName}' is given twice.");
            }
        }

        ValidateIdentity(definition);
        var network = definition.NetworkAccess?.NetworkAccessType switch
        {
            NetworkAccess.Types.NetworkAccessType.Blocked => NetworkPolicy.Blocked,
            NetworkAccess.Types.NetworkAccessType.Allowlist => NetworkRules.AllowList(definition.NetworkAccess.AllowedCidrs, definition.NetworkAccess.AllowedDomains),
            _ => definition.BlockNetwork ? NetworkPolicy.Blocked : NetworkPolicy.Open,
        };
        var outbound = NetworkTranslation.ToOutboundPolicy(definition.ExperimentalOutboundPolicy);
        network = await NetworkTranslation.WithOutboundPolicyAsync(network, outbound, secrets, cancellationToken).ConfigureAwait(false);

        return new SandboxSpec
        {
            AppId = appId,
            ImageId = definition.ImageId,
            EntrypointArgs = [.. definition.EntrypointArgs],
            Terminal = TerminalTranslation.From(definition.PtyInfo),
            Timeout = definition.TimeoutSecs == 0 ? EngineRules.DefaultTimeout : TimeSpan.FromSeconds(definition.TimeoutSecs),
            IdleTimeout = definition.HasIdleTimeoutSecs ? TimeSpan.FromSeconds(definition.IdleTimeoutSecs) : null,
            Workdir = definition.HasWorkdir ? definition.Workdir : null,
            Environment = environment,
            Volumes = [.. definition.VolumeMounts.Select(v => new VolumeMountSpec(v.VolumeId, v.MountPath, v.ReadOnly)
            {
                SubPath = v.HasSubPath && v.SubPath.Length > 0 ? Mounts.VolumeSubPath.Normalize(v.SubPath) : null,
            })],
            MemoryMb = definition.Resources?.MemoryMbMax > 0 ? definition.Resources.MemoryMbMax : definition.Resources?.MemoryMb ?? 0,
            MilliCpu = definition.Resources?.MilliCpuMax > 0 ? definition.Resources.MilliCpuMax : definition.Resources?.MilliCpu ?? 0,
            EphemeralDiskMb = definition.Resources?.EphemeralDiskMb ?? 0,
            Network = network,
            Ports = [.. (definition.OpenPorts?.Ports ?? []).Select(p => (int)p.Port)],
            InboundCidrs = NetworkTranslation.InboundCidrs(definition.InboundCidrAllowlist),
            OutboundPolicy = outbound,
            ReadinessProbe = definition.ReadinessProbe is { } probe ? ToProbe(probe) : null,
            Name = definition.HasName ? definition.Name : null,
            Tags = tagMap,
            Verbose = definition.Verbose,
            V2 = v2,
            Runtime = SandboxRuntimes.Parse(definition.HasRuntime ? definition.Runtime : null),
            EnableMemorySnapshot = definition.EnableSnapshot,
            EnableExitSnapshot = ExperimentalOptions.IsEnabled(definition.ExperimentalOptionsV2, ExperimentalOptions.EnableExitSnapshot),
        };
    }

    /// <summary>Placement (accepted and ignored when Modal knows the names) and experimental options (an allow-list).</summary>
    private static void ValidateIdentity(Sandbox definition)
    {
        EngineRules.Require(Placement.CheckCloud(definition.CloudProviderStr));
        EngineRules.Require(Placement.CheckRegions(definition.SchedulerPlacement?.Regions));
#pragma warning disable CS0612 // The deprecated boolean map: older clients still send it.
        var legacy = definition.ExperimentalOptions.Where(o => o.Value).Select(o => o.Key);
#pragma warning restore CS0612
        ExperimentalOptions.Validate(definition.ExperimentalOptionsV2.Keys.Concat(legacy));
    }

    /// <summary>The engine's form of a readiness probe.</summary>
    public static SandboxProbe ToProbe(Probe probe)
    {
        var interval = probe.HasIntervalMs ? TimeSpan.FromMilliseconds(probe.IntervalMs) : SandboxProbe.DefaultInterval;
        if (interval <= TimeSpan.Zero)
        {
            throw EngineException.Invalid("The readiness probe's interval_ms must be greater than 0.");
        }

        return probe.ProbeOneofCase switch
        {
            Probe.ProbeOneofOneofCase.TcpPort when probe.TcpPort is >= 1 and <= 65535 => new SandboxProbe((int)probe.TcpPort, null, interval),
            Probe.ProbeOneofOneofCase.ExecCommand when probe.ExecCommand.Argv.Count > 0 => new SandboxProbe(null, [.. probe.ExecCommand.Argv], interval),
            _ => throw EngineException.Invalid("A readiness probe needs a TCP port in [1, 65535] or a non-empty exec command."),
        };
    }

    /// <summary>The engine's form of the protocol's secret sources (named secrets or inline variables), in order.</summary>
    public static IEnumerable<EnvironmentSource> ToSources(IEnumerable<SecretSource> sources) =>
        sources.Select<SecretSource, EnvironmentSource?>(source => source.SourceCase switch
        {
            SecretSource.SourceOneofCase.SecretId => new EnvironmentSource.Secret(source.SecretId),
            SecretSource.SourceOneofCase.Env => new EnvironmentSource.Inline(source.Env.Contents),
            _ => null,
        }).OfType<EnvironmentSource>();

    /// <summary>The protocol form of a sandbox's result.</summary>
    public static GenericResult ToResult(SandboxResult result) => new()
    {
        Status = result.Outcome switch
        {
            SandboxOutcome.Success => GenericResult.Types.GenericStatus.Success,
            SandboxOutcome.Terminated => GenericResult.Types.GenericStatus.Terminated,
            SandboxOutcome.Timeout => GenericResult.Types.GenericStatus.Timeout,
            SandboxOutcome.IdleTimeout => GenericResult.Types.GenericStatus.IdleTimeout,
            SandboxOutcome.InitFailure => GenericResult.Types.GenericStatus.InitFailure,
            _ => GenericResult.Types.GenericStatus.Failure,
        },
        Exitcode = result.ExitCode,
        Exception = result.Message ?? "",
    };

    /// <summary>Protocol tags as a map (a later duplicate wins).</summary>
    public static Dictionary<string, string> ToMap(IEnumerable<SandboxTag> tags)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            map[tag.TagName] = tag.TagValue;
        }

        return map;
    }

    /// <summary>A tag map in protocol form.</summary>
    public static IEnumerable<SandboxTag> ToTags(IReadOnlyDictionary<string, string> tags) =>
        tags.Select(t => new SandboxTag { TagName = t.Key, TagValue = t.Value });
}
