using System.Security.Cryptography.X509Certificates;

namespace TypedSandbox.Configuration;

/// <summary>The configuration a <see cref="SandboxClient"/> runs with, after precedence has been applied.</summary>
/// <param name="ServerUrl">The control-plane URL.</param>
/// <param name="TokenId">The token id, if any source had one.</param>
/// <param name="TokenSecret">The token secret, if any source had one.</param>
/// <param name="Environment">The environment name ("" = the server's default).</param>
/// <param name="Profile">The profile read from the config file, if any.</param>
/// <param name="ConfigPath">The config file consulted (it may not exist).</param>
/// <param name="UseSandboxCreateV2">Whether creates use <c>SandboxCreateV2</c>.</param>
/// <param name="ImageBuilderVersion">A fixed image builder version, or null to ask the server.</param>
/// <param name="MaxThrottleWait">The longest throttle wait; null = unbounded, zero = off.</param>
internal sealed record ClientSettings(
    Uri ServerUrl,
    string? TokenId,
    string? TokenSecret,
    string Environment,
    string? Profile,
    string ConfigPath,
    bool UseSandboxCreateV2,
    string? ImageBuilderVersion,
    TimeSpan? MaxThrottleWait)
{
    /// <summary>The only certificate authorities an https server may chain to; null = the system's trust store.</summary>
    public X509Certificate2Collection? TrustedCertificateAuthorities { get; init; }

    /// <summary>Modal's cloud, used when nothing names a server.</summary>
    public const string DefaultServerUrl = "https://api.modal.com:443";

    /// <summary>True when the control plane runs on this machine (the SDK rule for plaintext router connections).</summary>
    public bool IsLoopbackServer => IsLoopbackHost(ServerUrl.Host);

    /// <summary>The hosts Modal's SDKs treat as local when deciding to dial the command router without TLS.</summary>
    public static bool IsLoopbackHost(string host) =>
        host is "localhost" or "127.0.0.1" or "::1" or "[::1]" or "172.21.0.1";
}
