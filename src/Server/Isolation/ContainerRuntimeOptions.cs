using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Isolation;

/// <summary>Settings of the isolation layer.</summary>
internal sealed record ContainerRuntimeOptions
{
    /// <summary>"crun" (default), "runc" or "runsc", or an absolute path to one of those binaries.</summary>
    public string Runtime { get; init; } = "crun";

    /// <summary>Volatile state (the runtime's --root, the agent's files); a tmpfs such as /run is right.</summary>
    public string RunDirectory { get; init; } = "/run/typedsandbox";

    /// <summary>Per-sandbox bundles (config.json, the overlay's private upper directory) and output spill files.</summary>
    public string StateDirectory { get; init; } = "/var/lib/typedsandbox";

    /// <summary>The published agent binary; null = agent/typedsandbox-agent next to the engine's assembly.</summary>
    public string? AgentPath { get; init; }

    /// <summary>Parent cgroup (under every v1 controller) of all sandboxes.</summary>
    public string CgroupParent { get; init; } = "typedsandbox";

    /// <summary>
    /// What all sandboxes under <see cref="CgroupParent"/> may hold together (<see cref="SandboxTotals"/>); null =
    /// <see cref="SandboxTotals.ForHost"/>.
    /// </summary>
    public SandboxTotals? Totals { get; init; }

    /// <summary>
    /// The host id range root inside every sandbox maps onto (each sandbox gets its own user namespace over it); the
    /// engine always sets one (<see cref="SubordinateIds.Ensure"/>). Null runs sandboxes without a user namespace, so
    /// root inside is root on the host: only the isolation layer's own tests, over hand-made root-owned layers, do that.
    /// </summary>
    public SandboxIdRange? UserNamespace { get; init; }

    /// <summary>Bounds of every output stream (memory, spill file, engine-wide spill budget).</summary>
    public OutputBounds Output { get; init; } = OutputBounds.Default;

    /// <summary>
    /// Where sandboxes' writable layers live with a size limit each; null = unlimited directories in each bundle
    /// (the isolation layer used alone, as its own tests do; the engine always sets one).
    /// </summary>
    public StorageQuota? Quota { get; init; }

    /// <summary>A writable layer's size limit when the sandbox asks for none (needs <see cref="Quota"/>).</summary>
    public long WritableLayerLimitBytes { get; init; } = StorageQuota.DefaultLimitBytes;

    /// <summary>The user-mode network stack for open networking.</summary>
    public string SlirpBinary { get; init; } = "slirp4netns";

    /// <summary>
    /// Whether an open network (namespace and slirp4netns) is kept ready for the next open sandbox once the first was
    /// made (<see cref="NetworkPool"/>); default true. False: each open sandbox makes its own at its create.
    /// </summary>
    public bool OpenNetworkAhead { get; init; } = true;

    /// <summary>
    /// How long after an open sandbox's start the next network is made ahead (<see cref="NetworkPool"/>); default 150 ms.
    /// Making one (a user and a network namespace, slirp4netns, the filter) costs tens of milliseconds of CPU and kernel
    /// work; started at once, it runs beside the new sandbox's first commands, which a client sends right after its
    /// create, and slows them.
    /// </summary>
    public TimeSpan NetworkAheadDelay { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// IPv4 networks (CIDR) the operator closes to every open sandbox besides the host's own addresses and the metadata
    /// services (<see cref="ClosedNetworks"/>), e.g. the private networks: rejected before anything an allow-list allows.
    /// </summary>
    public IReadOnlyList<string> ExtraClosedNetworks { get; init; } = [];

    /// <summary>Names the egress proxy resolves to a fixed address before asking the host's resolver (like docker's --add-host).</summary>
    public IReadOnlyDictionary<string, System.Net.IPAddress> EgressHosts { get; init; } = new Dictionary<string, System.Net.IPAddress>();

    /// <summary>The clock the leftovers sweep measures <see cref="Leftovers.OrphanGrace"/> with.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
