using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>A volume mounted into a sandbox.</summary>
public sealed record VolumeMountSpec(string VolumeId, string MountPath, bool ReadOnly)
{
    /// <summary>Mount only this directory of the volume (relative, no '..', no symlinks); null = the whole volume.</summary>
    public string? SubPath { get; init; }
}

/// <summary>Everything the engine needs to create a sandbox; built from a protocol request by the API layer.</summary>
public sealed record SandboxSpec
{
    /// <summary>The app the sandbox belongs to.</summary>
    public required string AppId { get; init; }

    /// <summary>The image (already built, or being built) the sandbox runs.</summary>
    public required string ImageId { get; init; }

    /// <summary>The entrypoint command; empty for a sandbox that idles until exec'd into or stopped.</summary>
    public IReadOnlyList<string> EntrypointArgs { get; init; } = [];

    /// <summary>The sandbox's lifetime; it is stopped with TIMEOUT when it passes.</summary>
    public TimeSpan Timeout { get; init; } = EngineRules.DefaultTimeout;

    /// <summary>Stop the sandbox after this long with nothing active (no exec, no stdin, no tunnel connection).</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>The working directory of the entrypoint and of execs that name none.</summary>
    public string? Workdir { get; init; }

    /// <summary>Run the entrypoint on a pseudo-terminal; null = plain pipes.</summary>
    internal TerminalSettings? Terminal { get; init; }

    /// <summary>Environment variables (secrets and <c>env</c>), applied over the image's environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Volumes to mount.</summary>
    public IReadOnlyList<VolumeMountSpec> Volumes { get; init; } = [];

    /// <summary>Memory limit in MiB; 0 for the engine default.</summary>
    public uint MemoryMb { get; init; }

    /// <summary>CPU limit in thousandths of a core; 0 for the engine default.</summary>
    public uint MilliCpu { get; init; }

    /// <summary>Size limit of the writable layer in MiB; 0 for the engine default.</summary>
    public uint EphemeralDiskMb { get; init; }

    /// <summary>Network access: open (the default, as Modal's), blocked, or open to listed CIDRs only.</summary>
    public NetworkPolicy Network { get; init; } = NetworkPolicy.Open;

    /// <summary>Container ports to expose through tunnels on the host's loopback.</summary>
    public IReadOnlyList<int> Ports { get; init; } = [];

    /// <summary>Source CIDRs allowed to connect through its tunnels (Modal's <c>inboundCidrAllowlist</c>); empty = any.</summary>
    internal IReadOnlyList<string> InboundCidrs { get; init; } = [];

    /// <summary>Its experimental outbound policy (header replacements), or null when created without one.</summary>
    internal OutboundPolicy? OutboundPolicy { get; init; }

    /// <summary>The readiness probe <c>waitUntilReady</c> waits for, or null (ready once running).</summary>
    internal SandboxProbe? ReadinessProbe { get; init; }

    /// <summary>A name unique among the app's running sandboxes, or null.</summary>
    public string? Name { get; init; }

    /// <summary>Tags set at creation.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>Log exec starts and file operations to the sandbox's log stream.</summary>
    public bool Verbose { get; init; }

    /// <summary>Mint a V2-shaped id (the sandbox was created through <c>SandboxCreateV2</c>).</summary>
    public bool V2 { get; init; }

    /// <summary>The runtime the sandbox asked for (Modal's <c>runtime</c>); <see cref="SandboxRuntime.Default"/> = the engine's.</summary>
    public SandboxRuntime Runtime { get; init; }

    /// <summary>Memory snapshots may be taken of it (Modal's <c>experimentalEnableSnapshot</c>): it runs under gVisor.</summary>
    public bool EnableMemorySnapshot { get; init; }

    /// <summary>Its filesystem becomes an image when it ends (Modal's experimental option <c>enable_exit_snapshot</c>).</summary>
    public bool EnableExitSnapshot { get; init; }

    /// <summary>Variables made from the sandbox's id once it is minted (its OIDC identity token), merged over <see cref="Environment"/>.</summary>
    internal Func<string, IReadOnlyDictionary<string, string>>? IdentityEnvironment { get; init; }
}

/// <summary>The runtime a sandbox asks for.</summary>
public enum SandboxRuntime
{
    /// <summary>The engine's default OCI runtime (crun unless the engine was started with another).</summary>
    Default,
    /// <summary>gVisor (runsc), whatever the engine's default.</summary>
    Gvisor,
}

/// <summary>How a sandbox ended.</summary>
internal enum SandboxOutcome
{
    /// <summary>The entrypoint exited with code 0.</summary>
    Success,
    /// <summary>The entrypoint exited with a non-zero code, or the sandbox failed.</summary>
    Failure,
    /// <summary>Stopped by a terminate request.</summary>
    Terminated,
    /// <summary>Its lifetime ran out.</summary>
    Timeout,
    /// <summary>Nothing was active for its idle timeout.</summary>
    IdleTimeout,
    /// <summary>It could not start.</summary>
    InitFailure,
}

/// <summary>The final result of a sandbox.</summary>
internal sealed record SandboxResult(SandboxOutcome Outcome, int ExitCode, string? Message, DateTimeOffset FinishedAt);
