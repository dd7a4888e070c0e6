using System.Net;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Hosting;

/// <summary>The engine's settings: where it listens, where it keeps state, which OCI runtime isolates sandboxes.</summary>
public sealed record EngineOptions
{
    /// <summary>The default TCP port.</summary>
    public const int DefaultPort = 8765;

    /// <summary>The TCP port to listen on; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>The loopback port serving the OIDC discovery document and key set (plain HTTP/1.1); 0 picks a free one.</summary>
    public int OidcPort { get; init; }

    /// <summary>The address to listen on; loopback by default.</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    /// <summary>The directory holding the database, images, volumes and sandbox bundles.</summary>
    public string StateDirectory { get; init; } = DefaultStateDirectory();

    /// <summary>The OCI runtime: <c>crun</c> (default) or <c>runsc</c> (gVisor).</summary>
    public string Runtime { get; init; } = "crun";

    /// <summary>
    /// The host uid/gid range root inside sandboxes maps onto; null (the default) takes the <c>typedsandbox</c> entry
    /// of /etc/subuid and /etc/subgid, adding one at a free range when missing.
    /// </summary>
    public SandboxIdRange? SandboxIds { get; init; }

    /// <summary>Registry mirrors tried first for Docker Hub references (plain HTTP only on loopback).</summary>
    public IReadOnlyList<RegistryMirror> RegistryMirrors { get; init; } = [];

    /// <summary>Non-public networks registries, their redirects and token services may reach besides each registry's own host and port.</summary>
    public IReadOnlyList<IPNetwork> RegistryAllowedNetworks { get; init; } = [];

    /// <summary>
    /// IPv4 networks no open sandbox reaches, besides the host's own addresses and the cloud metadata services, which
    /// are always closed: for example the private networks (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) of the host's
    /// site. Rejected before anything a sandbox's outbound allow-list allows.
    /// </summary>
    public IReadOnlyList<IPNetwork> SandboxClosedNetworks { get; init; } = [];

    /// <summary>The most one image pull may unpack (decompressed bytes).</summary>
    public long MaxImageBytes { get; init; } = ImageStoreOptions.DefaultMaxImageBytes;

    /// <summary>
    /// A file holding the token pair callers must present (<c>token_id = "…"</c> and <c>token_secret = "…"</c> lines);
    /// null uses <see cref="TokenId"/>/<see cref="TokenSecret"/>, else the pair the engine generates at its first start.
    /// </summary>
    public string? TokenFile { get; init; }

    /// <summary>The token id callers must present (with <see cref="TokenSecret"/>); null lets the engine generate a pair.</summary>
    public string? TokenId { get; init; }

    /// <summary>The token secret callers must present (with <see cref="TokenId"/>); never take it from a command line.</summary>
    public string? TokenSecret { get; init; }

    /// <summary>The server certificate (PEM) served with TLS; needed when <see cref="BindAddress"/> is beyond loopback.</summary>
    public string? TlsCertificatePath { get; init; }

    /// <summary>The private key (PEM) of <see cref="TlsCertificatePath"/>.</summary>
    public string? TlsKeyPath { get; init; }

    /// <summary>True when the engine serves TLS (a certificate and key are configured).</summary>
    public bool UsesTls => TlsCertificatePath is not null;

    /// <summary>Bounds of unread output per stream (memory, spill file) and of all spill files together.</summary>
    public OutputBounds ExecOutput { get; init; } = OutputBounds.Default;

    /// <summary>Size limit of a sandbox's writable layer when it asks for none (Modal's <c>ephemeral_disk_mb</c>).</summary>
    public long WritableLayerLimitBytes { get; init; } = StorageQuota.DefaultLimitBytes;

    /// <summary>Size limit of each volume.</summary>
    public long VolumeLimitBytes { get; init; } = StorageQuota.DefaultLimitBytes;

    /// <summary>Size limit of what one image build's RUN step may write.</summary>
    public long BuildStepLimitBytes { get; init; } = StorageQuota.DefaultLimitBytes;

    /// <summary>The largest <see cref="KeepSandboxes"/>, in seconds (a day).</summary>
    public const int MaxKeepSandboxesSeconds = 24 * 60 * 60;

    /// <summary>
    /// When the engine stops, running sandboxes wait this long for the next engine on the same state directory, which
    /// adopts them (same ids, execs and output) instead of reporting them terminated; zero (the default) ends them with
    /// the engine. Only crun and runsc sandboxes without sidecars, an egress proxy, an outbound policy or an exit snapshot are
    /// kept; an engine
    /// that is killed (no stop) still ends its sandboxes.
    /// </summary>
    public TimeSpan KeepSandboxes { get; init; }

    /// <summary>The largest <see cref="WarmPoolSize"/>.</summary>
    public const int MaxWarmPoolSize = 64;

    /// <summary>
    /// Sandboxes kept started ahead, per shape (image, limits, network mode) the engine has served, for creates of that
    /// shape to claim at once; 0 (the default) turns the warm pool off. Sandboxes with volumes are never pooled.
    /// </summary>
    public int WarmPoolSize { get; init; }

    /// <summary>
    /// Names the sandboxes' egress proxies resolve to a fixed IPv4 address before asking the host's resolver (as
    /// docker's --add-host does), for names of a private network the host's DNS does not know.
    /// </summary>
    public IReadOnlyDictionary<string, IPAddress> EgressHosts { get; init; } = new Dictionary<string, IPAddress>();

    /// <summary>
    /// Processes and threads all sandboxes may hold together (the pids limit of the cgroup their cgroups are made in);
    /// null = three quarters of the host's <c>kernel.pid_max</c>. Past it a fork in any sandbox fails, never one of the host.
    /// </summary>
    public long? SandboxPidsTotal { get; init; }

    /// <summary>
    /// Memory all sandboxes may use together, in bytes (that cgroup's memory limit); null = the host's memory less an
    /// eighth of it (at least 1 GiB). Past it the kernel reclaims and then OOM-kills inside the sandboxes, never on the host.
    /// </summary>
    public long? SandboxMemoryTotalBytes { get; init; }

    /// <summary>The cgroup the sandboxes' cgroups are made in (tests give an engine its own to bound it alone).</summary>
    internal string CgroupParent { get; init; } = "typedsandbox";

    /// <summary>How many sandboxes one <c>SandboxList</c> page holds (100, as Modal's); tests make it small to exercise paging.</summary>
    internal int SandboxListPageSize { get; init; } = 100;

    /// <summary>The state directory used when none is given: <c>$TYPEDSANDBOX_STATE_DIR</c>, else <c>/var/lib/typedsandbox</c>.</summary>
    public static string DefaultStateDirectory() =>
        Environment.GetEnvironmentVariable("TYPEDSANDBOX_STATE_DIR") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : "/var/lib/typedsandbox";

    /// <summary>Checks the settings; returns a message naming what is wrong, or null.</summary>
    public string? Validate()
    {
        if (Port is < 0 or > 65535)
        {
            return $"--port {Port} is not a TCP port (0-65535).";
        }

        if (SandboxPidsTotal is < 64)
        {
            return $"--sandboxes-pids {SandboxPidsTotal} leaves sandboxes too few tasks (at least 64).";
        }

        if (SandboxMemoryTotalBytes is < 64L << 20)
        {
            return $"--sandboxes-memory-mib {SandboxMemoryTotalBytes >> 20} leaves sandboxes too little memory (at least 64).";
        }

        if (Runtime is not ("crun" or "runsc" or "runc"))
        {
            return $"--runtime '{Runtime}' is not supported; use crun (default), runc or runsc.";
        }

        if (WarmPoolSize is < 0 or > MaxWarmPoolSize)
        {
            return $"--warm-pool {WarmPoolSize} is out of range (0-{MaxWarmPoolSize}).";
        }

        if (WritableLayerLimitBytes < StorageQuota.MinimumLimitBytes || VolumeLimitBytes < StorageQuota.MinimumLimitBytes
            || BuildStepLimitBytes < StorageQuota.MinimumLimitBytes)
        {
            return "--sandbox-disk-mib, --volume-disk-mib and --build-disk-mib must be at least 1.";
        }

        try
        {
            ExecOutput.Validate();
        }
        catch (ArgumentOutOfRangeException exception)
        {
            return $"Output bounds: {exception.Message}";
        }

        if (SandboxIds?.Validate() is { } idProblem)
        {
            return idProblem;
        }

        if (string.IsNullOrEmpty(TokenId) != string.IsNullOrEmpty(TokenSecret))
        {
            return "A token pair needs both parts: set TYPEDSANDBOX_TOKEN_ID and TYPEDSANDBOX_TOKEN_SECRET, or use --token-file.";
        }

        if (TokenFile is not null && !string.IsNullOrEmpty(TokenId))
        {
            return "Both --token-file and TYPEDSANDBOX_TOKEN_ID/TYPEDSANDBOX_TOKEN_SECRET name a token pair; keep one.";
        }

        if ((TlsCertificatePath is null) != (TlsKeyPath is null))
        {
            return "TLS needs both --tls-cert and --tls-key (PEM files).";
        }

        var loopback = IPAddress.IsLoopback(BindAddress);
        if (!loopback && !UsesTls)
        {
            return $"Listening on {BindAddress} (beyond loopback) needs TLS: give --tls-cert CERT.pem and --tls-key KEY.pem.";
        }

        if (loopback && UsesTls)
        {
            // Modal's SDKs dial the command router of a loopback server without TLS, so TLS there breaks them.
            return "--tls-cert/--tls-key are for a --bind address beyond loopback; on loopback the engine speaks plaintext HTTP/2 (Modal's SDKs expect it there).";
        }

        return null;
    }
}

/// <summary>Where the engine can be reached once it listens (the port is known only then).</summary>
public sealed class EngineEndpoint
{
    /// <summary>The control-plane URL, e.g. <c>http://127.0.0.1:8765</c> (plaintext HTTP/2), or <c>https://…</c> with TLS.</summary>
    public Uri ControlPlaneUrl { get; internal set; } = new("http://127.0.0.1:8765");

    /// <summary>
    /// The command-router URL handed to clients: the control plane's own endpoint with the https scheme. Modal's SDKs require
    /// <c>https://</c>; they speak plaintext to it when the control plane is on loopback (the engine's plaintext port) and
    /// TLS otherwise (the engine serves TLS beyond loopback).
    /// </summary>
    public string RouterUrl => $"https://{ControlPlaneUrl.Host}:{ControlPlaneUrl.Port}";
}
