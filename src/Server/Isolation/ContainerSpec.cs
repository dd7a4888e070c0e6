using System.Text.RegularExpressions;
using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Isolation;

/// <summary>Everything the isolation layer needs to start one sandbox.</summary>
internal sealed partial record ContainerSpec
{
    /// <summary>
    /// Container id: 8–64 characters of letters, digits, '-', '_' and '.'. Use <see cref="NewId"/>: all ids of one
    /// engine should have the same length because runsc resolves ids by prefix ("sb-1" would match "sb-12").
    /// </summary>
    public required string Id { get; init; }

    /// <summary>Read-only image layer directories, top layer first (overlayfs lowerdir order).</summary>
    public required IReadOnlyList<string> LayerDirs { get; init; }

    /// <summary>Environment from the image config (lowest precedence).</summary>
    public IReadOnlyDictionary<string, string> ImageEnv { get; init; } = new Dictionary<string, string>();

    /// <summary>Working directory from the image config.</summary>
    public string? ImageWorkdir { get; init; }

    /// <summary>The sandbox's main process; null = an idle sandbox that lives until terminated.</summary>
    public ProcessSpec? Entrypoint { get; init; }

    /// <summary>Environment for every process of the sandbox (over the image's, under each process's own).</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Default working directory of the sandbox's processes (over the image's).</summary>
    public string? Workdir { get; init; }

    /// <summary>cgroup limits.</summary>
    public ResourceLimits Limits { get; init; } = ResourceLimits.Default;

    /// <summary>Network access; blocked unless asked for.</summary>
    public NetworkPolicy Network { get; init; } = NetworkPolicy.Blocked;

    /// <summary>
    /// A running sandbox's network namespace to join instead of having one made (a sidecar shares its sandbox's
    /// network: <see cref="Network"/> then only says what that network is); null = a network of its own.
    /// </summary>
    public string? JoinNetworkNamespace { get; init; }

    /// <summary>
    /// With <see cref="JoinNetworkNamespace"/>: the user namespace to join too (the sandbox's own), so that the container
    /// is root over the network namespace it joins and gets a sysfs of its own. Null: the runtime makes one.
    /// </summary>
    public string? JoinUserNamespace { get; init; }

    /// <summary>runsc only: start inside a running gVisor sandbox (a sidecar shares its Sentry and network); null = a sandbox of its own.</summary>
    public RunscSubcontainer? Subcontainer { get; init; }

    /// <summary>Host directories bind-mounted into the sandbox (volumes).</summary>
    public IReadOnlyList<BindMount> Mounts { get; init; } = [];

    /// <summary>The sandbox's hostname.</summary>
    public string Hostname { get; init; } = "sandbox";

    /// <summary>
    /// Where the sandbox's writes go (overlayfs upper and work directories, on one filesystem); null = private
    /// directories in the bundle, removed with it. Image builds pass their own to keep a step's changes as a layer.
    /// </summary>
    public WritableLayer? WritableLayer { get; init; }

    /// <summary>The OCI runtime of this sandbox; null = the engine's default (see <see cref="RuntimeChoice"/>).</summary>
    public RuntimeFlavor? Runtime { get; init; }

    /// <summary>Resume a memory checkpoint instead of starting fresh (see <see cref="Checkpoints"/>); needs runsc.</summary>
    public CheckpointRestore? Restore { get; init; }

    /// <summary>A fresh id of fixed length ("tsb" + 32 hex digits).</summary>
    public static string NewId() => "tsb" + Guid.NewGuid().ToString("N");

    /// <summary>Throws <see cref="ArgumentException"/> with a clear message when the spec cannot be run.</summary>
    public void Validate()
    {
        if (!IdPattern().IsMatch(Id))
        {
            throw new ArgumentException($"Container id '{Id}' is invalid; use 8-64 letters, digits, '-', '_' or '.', starting with a letter or digit.", nameof(Id));
        }

        if (LayerDirs.Count == 0)
        {
            throw new ArgumentException("A container needs at least one image layer directory.", nameof(LayerDirs));
        }

        foreach (var layer in LayerDirs)
        {
            if (!Path.IsPathFullyQualified(layer) || !Directory.Exists(layer))
            {
                throw new ArgumentException($"Image layer directory '{layer}' does not exist (an absolute path is required).", nameof(LayerDirs));
            }

            if (layer.Contains(',', StringComparison.Ordinal) || layer.Contains(':', StringComparison.Ordinal))
            {
                throw new ArgumentException($"Image layer directory '{layer}' contains ',' or ':', which overlayfs options cannot express.", nameof(LayerDirs));
            }
        }
        if (Entrypoint is { Args.Count: 0 })
        {
            throw new ArgumentException("The entrypoint needs at least one argument.", nameof(Entrypoint));
        }

        foreach (var mount in Mounts)
        {
            mount.Validate();
        }

        Limits.Validate();
        Network.Validate();
        if (Hostname.Length is 0 or > 63 || !HostnamePattern().IsMatch(Hostname))
        {
            throw new ArgumentException($"Hostname '{Hostname}' is invalid; use at most 63 letters, digits and '-'.", nameof(Hostname));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{7,63}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")]
    private static partial Regex HostnamePattern();
}

/// <summary>cgroup limits of a sandbox. Null = no limit of that kind.</summary>
/// <param name="MemoryBytes">Memory limit (the OOM killer acts inside the sandbox past it).</param>
/// <param name="CpuMillicores">CPU quota in thousandths of a CPU (1000 = one CPU).</param>
/// <param name="Pids">Maximum number of processes and threads.</param>
internal sealed record ResourceLimits(long? MemoryBytes, int? CpuMillicores, int? Pids)
{
    /// <summary>
    /// 1 GiB memory, one core, 1024 pids: safe defaults for a shared machine. One core because a sandbox that asked for
    /// nothing must not take every core of a small host from the engine and the other sandboxes, while a
    /// single-threaded program still runs at full speed; a request (Modal's <c>cpu</c>) or limit replaces it.
    /// </summary>
    public static ResourceLimits Default { get; } = new(1L << 30, 1000, 1024);

    /// <summary>Size limit of the sandbox's writable layer; null = the runtime's default.</summary>
    public long? DiskBytes { get; init; }

    internal void Validate()
    {
        if (DiskBytes is < StorageQuota.MinimumLimitBytes)
        {
            throw new ArgumentException($"Disk limit {DiskBytes} bytes is below the 1 MiB minimum.", nameof(DiskBytes));
        }

        if (MemoryBytes is < 4 * 1024 * 1024)
        {
            throw new ArgumentException($"Memory limit {MemoryBytes} bytes is below the 4 MiB minimum.", nameof(MemoryBytes));
        }
        // The kernel's smallest CFS quota is 1 ms per 100 ms period: 10 millicores.
        if (CpuMillicores is < 10)
        {
            throw new ArgumentException($"CPU limit {CpuMillicores} millicores is below the 10 millicore minimum.", nameof(CpuMillicores));
        }

        if (Pids is <= 0)
        {
            throw new ArgumentException($"Pids limit {Pids} must be positive.", nameof(Pids));
        }
    }
}

/// <summary>How a sandbox reaches the network.</summary>
public enum NetworkMode
{
    /// <summary>Its own network namespace with only a loopback interface.</summary>
    Blocked,
    /// <summary>Outbound access through a user-mode network stack; never the host's loopback.</summary>
    Open,
}

/// <summary>Network access of a sandbox.</summary>
/// <param name="Mode">Blocked or open.</param>
/// <param name="AllowedCidrs">With <see cref="NetworkMode.Open"/>: when non-empty, outbound traffic is limited to these CIDRs.</param>
public sealed record NetworkPolicy(NetworkMode Mode, IReadOnlyList<string> AllowedCidrs)
{
    /// <summary>Loopback only.</summary>
    public static NetworkPolicy Blocked { get; } = new(NetworkMode.Blocked, []);

    /// <summary>Outbound access to everything but the host's loopback.</summary>
    public static NetworkPolicy Open { get; } = new(NetworkMode.Open, []);

    /// <summary>With <see cref="NetworkMode.Open"/>: names and headers the sandbox's egress proxy enforces; null = no proxy.</summary>
    internal Network.EgressRules? Egress { get; init; }

    /// <summary>An open network limited to <see cref="AllowedCidrs"/> even when that list is empty (then nothing leaves).</summary>
    internal bool Restricted { get; init; }

    /// <summary>True when a packet filter decides what leaves the sandbox.</summary>
    internal bool Filters => Mode == NetworkMode.Open && (Restricted || AllowedCidrs.Count > 0);

    internal void Validate()
    {
        foreach (var cidr in AllowedCidrs)
        {
            if (!System.Net.IPNetwork.TryParse(cidr, out _))
            {
                throw new ArgumentException($"'{cidr}' is not a CIDR (like 10.0.0.0/8).", nameof(AllowedCidrs));
            }
        }

        if (Mode == NetworkMode.Blocked && (AllowedCidrs.Count > 0 || Restricted || Egress is not null))
        {
            throw new ArgumentException("Allowed CIDRs need an open network.", nameof(AllowedCidrs));
        }
    }
}

/// <summary>A host directory or file mounted into the sandbox.</summary>
internal sealed record BindMount(string HostPath, string ContainerPath, bool ReadOnly)
{
    internal void Validate()
    {
        if (!Path.IsPathFullyQualified(HostPath) || !Path.Exists(HostPath))
        {
            throw new ArgumentException($"Mount source '{HostPath}' does not exist (an absolute path is required).", nameof(HostPath));
        }

        if (!ContainerPath.StartsWith('/') || ContainerPath == "/" || ContainerPath.Split('/').Contains(".."))
        {
            throw new ArgumentException($"Mount target '{ContainerPath}' must be an absolute path other than '/' without '..'.", nameof(ContainerPath));
        }
    }
}

/// <summary>Caller-owned overlayfs upper and work directories (kept when the sandbox is cleaned up).</summary>
internal sealed record WritableLayer(string UpperDirectory, string WorkDirectory);
