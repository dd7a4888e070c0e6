using Microsoft.Extensions.Logging;

namespace TypedSandbox;

/// <summary>
/// Options for <see cref="SandboxClient"/>. Every value left <see langword="null"/> falls back, in order, to the
/// <c>MODAL_*</c> environment variable and then to the active profile of the Modal config file (<c>~/.modal.toml</c>).
/// </summary>
public sealed record SandboxClientOptions
{
    /// <summary>The control-plane URL (<c>MODAL_SERVER_URL</c>, profile <c>server_url</c>). <c>http://</c> speaks
    /// plaintext HTTP/2; <c>https://</c> uses TLS. Defaults to Modal's cloud.</summary>
    public string? ServerUrl { get; set; }

    /// <summary>The token id (<c>MODAL_TOKEN_ID</c>, profile <c>token_id</c>).</summary>
    public string? TokenId { get; set; }

    /// <summary>The token secret (<c>MODAL_TOKEN_SECRET</c>, profile <c>token_secret</c>).</summary>
    public string? TokenSecret { get; set; }

    /// <summary>
    /// A PEM file of certificate authorities for an <c>https://</c> server (e.g. the CA of a TypedSandbox engine serving
    /// TLS). When set, the server's certificate must chain to one of them (the system store is not consulted);
    /// otherwise the system's trust store decides (on Linux also <c>SSL_CERT_FILE</c>/<c>SSL_CERT_DIR</c>).
    /// </summary>
    public string? TrustedCertificateAuthoritiesPath { get; set; }

    /// <summary>The environment name (<c>MODAL_ENVIRONMENT</c>, profile <c>environment</c>); empty means the server's default.</summary>
    public string? Environment { get; set; }

    /// <summary>The profile to read from the config file (<c>MODAL_PROFILE</c>); otherwise the profile marked
    /// <c>active = true</c>, otherwise <c>default</c>.</summary>
    public string? Profile { get; set; }

    /// <summary>The config file (<c>MODAL_CONFIG_PATH</c>); defaults to <c>~/.modal.toml</c>.</summary>
    public string? ConfigPath { get; set; }

    /// <summary>Whether sandboxes are created with <c>SandboxCreateV2</c> (<c>MODAL_SANDBOX_V2</c>, profile
    /// <c>sandbox_v2</c>); defaults to <see langword="true"/> as in Modal's JS SDK.</summary>
    public bool? UseSandboxCreateV2 { get; set; }

    /// <summary>The image builder version sent with image builds (<c>MODAL_IMAGE_BUILDER_VERSION</c>, profile
    /// <c>image_builder_version</c>); otherwise the environment's setting on the server.</summary>
    public string? ImageBuilderVersion { get; set; }

    /// <summary>How many times a failed unary call is retried on a transient status; defaults to 3.</summary>
    public int? MaxRetries { get; set; }

    /// <summary>The longest the client waits when the server asks it to slow down (<c>MODAL_MAX_THROTTLE_WAIT</c>, seconds);
    /// <see cref="TimeSpan.Zero"/> turns throttle retries off. Unbounded by default.</summary>
    public TimeSpan? MaxThrottleWait { get; set; }

    /// <summary>
    /// Where the client writes its logs. Unset, the client writes its own messages from
    /// <see cref="LogLevel.Information"/> up to standard error (an image build's steps and their output as the build
    /// runs, warnings); <see cref="Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance"/> silences it.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
