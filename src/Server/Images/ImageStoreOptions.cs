namespace TypedSandbox.Server.Images;

/// <summary>Where <c>FROM debian:&lt;suite&gt;[-slim]</c> bases come from.</summary>
internal enum DebianBaseSource
{
    /// <summary>Pull from the registry (or a mirror); build locally with mmdebstrap when that fails.</summary>
    RegistryThenBootstrap,

    /// <summary>Always build locally with mmdebstrap (no registry traffic for Debian bases).</summary>
    BootstrapOnly,

    /// <summary>Only pull; never build locally.</summary>
    RegistryOnly,
}

/// <summary>Settings of an <see cref="ImageStore"/>.</summary>
internal sealed record ImageStoreOptions
{
    /// <summary>Directory that holds blobs, unpacked layers and image records; created when missing.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>Mirrors tried in order before Docker Hub for <c>docker.io</c> references.</summary>
    public IReadOnlyList<RegistryMirror> RegistryMirrors { get; init; } = [];

    /// <summary>How Debian bases are obtained.</summary>
    public DebianBaseSource DebianBases { get; init; } = DebianBaseSource.RegistryThenBootstrap;

    /// <summary>The Debian package mirror mmdebstrap uses.</summary>
    public string DebianMirror { get; init; } = "http://deb.debian.org/debian";

    /// <summary>The mmdebstrap executable.</summary>
    public string MmdebstrapPath { get; init; } = "mmdebstrap";

    /// <summary>Platform picked from manifest lists; defaults to this machine's (linux/amd64 or linux/arm64).</summary>
    public OciPlatform Platform { get; init; } = OciPlatform.Current;

    /// <summary>
    /// The sandboxes' host id range: unpacked layers are owned by it (id n of a layer becomes <c>HostId + n</c>), so no
    /// file of an image is owned by host root. Null keeps the layers' own ids (for a store no sandbox runs from).
    /// </summary>
    public Isolation.SandboxIdRange? SandboxIds { get; init; }

    /// <summary>Time allowed to open a connection to a registry.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The default of <see cref="MaxImageBytes"/>: 32 GiB.</summary>
    public const long DefaultMaxImageBytes = 32L * 1024 * 1024 * 1024;

    /// <summary>
    /// The most one pull may write when it unpacks its layers (decompressed bytes; layers already in the store are
    /// free). A pull also stops before the store's file system is nearly full.
    /// </summary>
    public long MaxImageBytes { get; init; } = DefaultMaxImageBytes;

    /// <summary>
    /// Non-public networks (loopback, private, link-local) registries, their redirects and token services may reach
    /// besides each registry's own configured host and port. Empty by default.
    /// </summary>
    public IReadOnlyList<System.Net.IPNetwork> RegistryAllowedNetworks { get; init; } = [];

    /// <summary>
    /// Where a RUN step's writable layer lives while it runs, with a size limit of <see cref="BuildStepLimitBytes"/> (a
    /// step that writes past it gets EDQUOT and fails; the host's disk never fills). Null = unlimited directories in
    /// the store's own temp directory (a store used without the engine, as the image store's own tests do).
    /// </summary>
    public Isolation.StorageQuota? BuildScratch { get; init; }

    /// <summary>The size limit of one RUN step's changes (needs <see cref="BuildScratch"/>).</summary>
    public long BuildStepLimitBytes { get; init; } = Isolation.StorageQuota.DefaultLimitBytes;
}
