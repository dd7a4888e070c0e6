namespace TypedSandbox;

/// <summary>Options for <see cref="SandboxService.CreateAsync"/>; each mirrors a parameter of Modal's <c>Sandbox.create</c>.</summary>
public sealed partial record SandboxCreateOptions
{
    /// <summary>The entrypoint command and its arguments; empty runs the image's default (an idle process).</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>The sandbox's lifetime (whole seconds, at most 24 h); 5 minutes by default.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Terminate the sandbox after it has been idle this long (whole seconds).</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>The working directory of the entrypoint and of execs (absolute).</summary>
    public string? Workdir { get; init; }

    /// <summary>Environment variables of the sandbox.</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Secrets whose values become environment variables of the sandbox.</summary>
    public IReadOnlyList<Secret>? Secrets { get; init; }

    /// <summary>Volumes to mount, keyed by absolute mount path.</summary>
    public IReadOnlyDictionary<string, Volume>? Volumes { get; init; }

    /// <summary>CPU cores requested (fractions allowed).</summary>
    public double? Cpu { get; init; }

    /// <summary>The hard CPU limit in cores.</summary>
    public double? CpuLimit { get; init; }

    /// <summary>Memory requested, in MiB.</summary>
    public int? MemoryMiB { get; init; }

    /// <summary>The hard memory limit, in MiB.</summary>
    public int? MemoryLimitMiB { get; init; }

    /// <summary>Size limit of the sandbox's writable filesystem, in MiB (Modal's <c>ephemeral_disk_mb</c>); null = the engine's default.</summary>
    public int? EphemeralDiskMiB { get; init; }

    /// <summary>Block all network access (loopback only).</summary>
    public bool BlockNetwork { get; init; }

    /// <summary>
    /// Allow outbound traffic only to these CIDR ranges (cannot be combined with <see cref="BlockNetwork"/>); an empty list
    /// allows nothing but keeps a network that <see cref="Sandbox.UpdateNetworkPolicyAsync"/> can open later.
    /// </summary>
    public IReadOnlyList<string>? CidrAllowlist { get; init; }

    /// <summary>Container ports exposed through TLS tunnels.</summary>
    public IReadOnlyList<int>? EncryptedPorts { get; init; }

    /// <summary>Container ports exposed through HTTP/2 tunnels.</summary>
    public IReadOnlyList<int>? H2Ports { get; init; }

    /// <summary>Container ports exposed through plain TCP tunnels.</summary>
    public IReadOnlyList<int>? UnencryptedPorts { get; init; }

    /// <summary>A name unique among the app's running sandboxes; lets <see cref="SandboxService.FromNameAsync"/> find it.</summary>
    public string? Name { get; init; }

    /// <summary>Tags to set on the sandbox at creation (see <see cref="SandboxService.ListAsync"/>).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Ask the server for verbose sandbox logs.</summary>
    public bool Verbose { get; init; }

    /// <summary>The sandbox's runtime (Modal's <c>runtime</c>): <c>"gvisor"</c>, or null for the server's default.</summary>
    public string? Runtime { get; init; }

    /// <summary>Allow memory snapshots of this sandbox (<see cref="Sandbox.ExperimentalSnapshotAsync"/>); Modal's <c>experimentalEnableSnapshot</c>.</summary>
    public bool ExperimentalEnableSnapshot { get; init; }

    /// <summary>Modal's <c>experimentalOptions</c>, e.g. <c>enable_exit_snapshot = "true"</c> for <see cref="Sandbox.ExperimentalGetExitSnapshotAsync"/>.</summary>
    public IReadOnlyDictionary<string, string>? ExperimentalOptions { get; init; }

    /// <summary>Run the entrypoint (<see cref="Command"/>) on a pseudo-terminal (Modal's <c>pty: true</c>); null: plain pipes.</summary>
    public PtyOptions? Pty { get; init; }

    /// <summary>Where image build logs go, line by line as they arrive, when the image still has to be built.</summary>
    public IProgress<string>? BuildLog { get; init; }
}
