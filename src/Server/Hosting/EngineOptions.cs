using System.Net;
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

    /// <summary>The address to listen on; loopback by default.</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    /// <summary>The directory holding the database, images, volumes and sandbox bundles.</summary>
    public string StateDirectory { get; init; } = DefaultStateDirectory();

    /// <summary>The OCI runtime: <c>crun</c> (default) or <c>runsc</c> (gVisor).</summary>
    public string Runtime { get; init; } = "crun";

    /// <summary>Registry mirrors tried first for Docker Hub references (plain HTTP only on loopback).</summary>
    public IReadOnlyList<RegistryMirror> RegistryMirrors { get; init; } = [];

    /// <summary>The token id callers must present when the engine listens beyond loopback.</summary>
    public string? TokenId { get; init; }

    /// <summary>The token secret callers must present when the engine listens beyond loopback.</summary>
    public string? TokenSecret { get; init; }

    /// <summary>Size limit of a sandbox's writable layer when it asks for none (Modal's <c>ephemeral_disk_mb</c>).</summary>
    public long WritableLayerLimitBytes { get; init; } = StorageQuota.DefaultLimitBytes;

    /// <summary>Size limit of each volume.</summary>
    public long VolumeLimitBytes { get; init; } = StorageQuota.DefaultLimitBytes;

    /// <summary>How many sandboxes one <c>SandboxList</c> page holds (100, as Modal's); tests make it small to exercise paging.</summary>
    internal int SandboxListPageSize { get; init; } = 100;

    /// <summary>True when callers must present the configured token pair (the engine listens beyond loopback).</summary>
    public bool RequireCredentials => !IPAddress.IsLoopback(BindAddress);

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

        if (Runtime is not ("crun" or "runsc" or "runc"))
        {
            return $"--runtime '{Runtime}' is not supported; use crun (default), runc or runsc.";
        }

        if (WritableLayerLimitBytes < StorageQuota.MinimumLimitBytes || VolumeLimitBytes < StorageQuota.MinimumLimitBytes)
        {
            return "--sandbox-disk-mib and --volume-disk-mib must be at least 1.";
        }

        if (RequireCredentials && (string.IsNullOrEmpty(TokenId) || string.IsNullOrEmpty(TokenSecret)))
        {
            return $"Listening on {BindAddress} (beyond loopback) needs a token pair: set --token-id and --token-secret (or TYPEDSANDBOX_TOKEN_ID/SECRET).";
        }

        return null;
    }
}

/// <summary>Where the engine can be reached once it listens (the port is known only then).</summary>
public sealed class EngineEndpoint
{
    /// <summary>The control-plane URL, e.g. <c>http://127.0.0.1:8765</c> (plaintext HTTP/2).</summary>
    public Uri ControlPlaneUrl { get; internal set; } = new("http://127.0.0.1:8765");

    /// <summary>
    /// The command-router URL handed to clients. Modal's SDKs require <c>https://</c> and speak plaintext to it when the
    /// control plane is on loopback, so it names the same plaintext endpoint with the https scheme.
    /// </summary>
    public string RouterUrl => $"https://{ControlPlaneUrl.Host}:{ControlPlaneUrl.Port}";
}
