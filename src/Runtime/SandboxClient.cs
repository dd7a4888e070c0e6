using Microsoft.Extensions.Logging;
using TypedSandbox.Configuration;
using TypedSandbox.Transport;

namespace TypedSandbox;

/// <summary>
/// The entry point of the TypedSandbox client: one connection to a server that speaks Modal's sandbox protocol
/// (Modal's cloud or the local TypedSandbox engine), and the services that create and find its objects.
/// </summary>
/// <remarks>
/// Configuration follows Modal's SDKs: values in <see cref="SandboxClientOptions"/> win over <c>MODAL_*</c>
/// environment variables, which win over the active profile of <c>~/.modal.toml</c>. A client is thread-safe and
/// meant to be shared; dispose it when done.
/// </remarks>
public sealed class SandboxClient : IAsyncDisposable, IDisposable
{
    private static readonly Lock DefaultGate = new();
    private static SandboxClient? _default;

    private readonly ControlPlane _controlPlane;
    private bool _disposed;

    /// <summary>Creates a client configured from the environment and the Modal config file.</summary>
    /// <exception cref="SandboxConfigurationException">The configuration is malformed.</exception>
    public SandboxClient()
        : this(new SandboxClientOptions())
    {
    }

    /// <summary>Creates a client; unset options fall back to the environment and the Modal config file.</summary>
    /// <param name="options">Explicit settings.</param>
    /// <exception cref="SandboxConfigurationException">The configuration is malformed.</exception>
    public SandboxClient(SandboxClientOptions options)
        : this(ClientSettingsResolver.Resolve(options ?? throw new ArgumentNullException(nameof(options))),
            options.LoggerFactory ?? ConsoleLoggerFactory.Instance,
            RetryPolicyFor(options),
            TimeProvider.System)
    {
    }

    internal SandboxClient(ClientSettings settings, ILoggerFactory loggerFactory, RetryPolicy retryPolicy, TimeProvider time,
        Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null)
    {
        _controlPlane = new ControlPlane(settings, retryPolicy, loggerFactory, time, wrapHandler);
        Apps = new AppService(this);
        Images = new ImageService(this);
        Secrets = new SecretService(this);
        Volumes = new VolumeService(this);
        Environments = new EnvironmentService(this);
        Sandboxes = new SandboxService(this);
    }

    private static RetryPolicy RetryPolicyFor(SandboxClientOptions options) => options.MaxRetries switch
    {
        null => RetryPolicy.ControlPlane,
        < 0 => throw new ArgumentOutOfRangeException(nameof(options), options.MaxRetries, "MaxRetries must not be negative."),
        { } retries => RetryPolicy.ControlPlane with { MaxRetries = retries },
    };

    /// <summary>
    /// The client used when none is passed (generated sandbox classes use it). Created on first use from the
    /// environment and the config file; set it to share a configured client. Setting it does not dispose the old one;
    /// disposing the client that is the default makes the next read create a fresh one.
    /// </summary>
    public static SandboxClient Default
    {
        get
        {
            lock (DefaultGate)
            {
                return _default ??= new SandboxClient();
            }
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (DefaultGate)
            {
                _default = value;
            }
        }
    }

    /// <summary>Looks up and creates apps.</summary>
    public AppService Apps { get; }

    /// <summary>Defines and builds images.</summary>
    public ImageService Images { get; }

    /// <summary>Looks up and defines secrets.</summary>
    public SecretService Secrets { get; }

    /// <summary>Looks up and creates volumes.</summary>
    public VolumeService Volumes { get; }

    /// <summary>Environments: create, list, delete (each holds its own apps, volumes, secrets and published images).</summary>
    public EnvironmentService Environments { get; }

    /// <summary>Creates, finds and lists sandboxes.</summary>
    public SandboxService Sandboxes { get; }

    /// <summary>The control-plane URL this client talks to.</summary>
    public Uri ServerUrl => _controlPlane.Settings.ServerUrl;

    /// <summary>The environment name used when a call does not name one ("" = the server's default).</summary>
    public string Environment => _controlPlane.Settings.Environment;

    /// <summary>The config-file profile the settings came from, if any.</summary>
    public string? Profile => _controlPlane.Settings.Profile;

    /// <summary>
    /// Asks the server to answer (Modal's <c>ClientHello</c>), with this client's credentials: succeeds when the server is
    /// reachable and accepts them. Health checks use it.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SandboxException">The server did not answer or refused the credentials.</exception>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        await ControlPlane.CallAsync("ClientHello", static (c, r, o) => c.ClientHelloAsync(r, o), new Google.Protobuf.WellKnownTypes.Empty(),
            cancellationToken).ConfigureAwait(false);
    }

    internal ControlPlane ControlPlane
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _controlPlane;
        }
    }

    internal ClientSettings Settings => _controlPlane.Settings;

    internal ILoggerFactory LoggerFactory => _controlPlane.LoggerFactory;

    internal TimeProvider Time => _controlPlane.Time;

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        StepDownAsDefault();
        await _controlPlane.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        StepDownAsDefault();
        // Closing the channel is synchronous; no call is awaited here.
        _controlPlane.Dispose();
    }

    /// <summary>A disposed client never stays the default: every later call through it would fail.</summary>
    private void StepDownAsDefault()
    {
        lock (DefaultGate)
        {
            if (ReferenceEquals(_default, this))
            {
                _default = null;
            }
        }
    }
}
