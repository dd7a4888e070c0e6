using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using TypedSandbox.Server.Api;
using TypedSandbox.Server.Apps;
using TypedSandbox.Server.Auth;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.Snapshots;
using TypedSandbox.Server.State;
using TypedSandbox.Server.Volumes;

namespace TypedSandbox.Server.Hosting;

/// <summary>
/// The engine as a running server: Kestrel (HTTP/2 only, which Modal's SDKs need for plaintext h2c) serving the
/// control plane and the command router on one endpoint. Used by the executable and in-process by tests and samples.
/// </summary>
public sealed partial class EngineHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly StateDatabase _database;
    private readonly StorageQuota _quota;

    private EngineHost(WebApplication app, StateDatabase database, StorageQuota quota, Uri url, EngineToken token, string configPath)
    {
        _app = app;
        _database = database;
        _quota = quota;
        Url = url;
        Token = token;
        ConfigPath = configPath;
    }

    /// <summary>The control-plane URL (also the profile's <c>server_url</c>).</summary>
    public Uri Url { get; }

    /// <summary>The token pair every caller must present.</summary>
    public EngineToken Token { get; }

    /// <summary>The engine's Modal profile, <c>&lt;state-dir&gt;/modal.toml</c> (0600): give it to SDKs as <c>MODAL_CONFIG_PATH</c>.</summary>
    public string ConfigPath { get; }

    /// <summary>The engine's services (for tests and embedding).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts an engine; fails with a clear message when a prerequisite (OCI runtime, cgroups) is missing.</summary>
    public static async Task<EngineHost> StartAsync(EngineOptions options, Action<ILoggingBuilder>? configureLogging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        var ids = options.SandboxIds ?? SubordinateIds.Ensure();
        StateDirectoryModes.Secure(options.StateDirectory, ids);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (configureLogging is null)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        }
        else
        {
            configureLogging(builder.Logging);
        }

        var certificate = options.UsesTls ? LoadCertificate(options) : null;
        if (certificate is not null)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        var identity = new Identity.IdentityTokens(options.StateDirectory, TimeProvider.System);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.BindAddress, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
            Identity.IdentityEndpoints.Listen(kestrel, identity, options.OidcPort);
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            kestrel.Limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 4 * 1024 * 1024;
        });

        var database = await StateDatabase.OpenAsync(Path.Combine(options.StateDirectory, "state.db"), cancellationToken).ConfigureAwait(false);
        StorageQuota quota;
        try
        {
            // The quota's own logger: it is mounted before the application (and its logging) exists, and unmounted after.
            var quotaLogger = LoggerFactory.Create(logging => (configureLogging ?? (l => l.AddSimpleConsole(o => o.SingleLine = true)))(logging))
                .CreateLogger<StorageQuota>();
            quota = await StorageQuota.OpenAsync(options.StateDirectory, quotaLogger, cancellationToken).ConfigureAwait(false);
            await quota.AdoptLegacyDirectoriesAsync(Path.Combine(options.StateDirectory, "volumes"), quota.VolumesDirectory, options.VolumeLimitBytes, cancellationToken)
                .ConfigureAwait(false);
            StateDirectoryModes.SecureWritableStorage(quota, ids);
        }
        catch
        {
            await database.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(database);
        services.AddSingleton<EngineEndpoint>();
        services.AddSingleton<TokenAuthority>();
        services.AddSingleton(identity);
        services.AddSingleton(sp => EngineCredentials.Resolve(options, sp.GetRequiredService<ILogger<EngineHost>>()));
        services.AddSingleton<AppRegistry>();
        services.AddSingleton<EnvironmentStore>();
        services.AddSingleton<ImageTagStore>();
        services.AddSingleton<ObjectLifecycle>();
        services.AddSingleton<SecretStore>();
        services.AddSingleton(sp => new VolumeStore(database, quota.VolumesDirectory, sp.GetRequiredService<TimeProvider>(), ids, quota, options.VolumeLimitBytes));
        services.AddSingleton(sp => new ImageStore(
            new ImageStoreOptions
            {
                StateDirectory = Path.Combine(options.StateDirectory, "images"),
                RegistryMirrors = options.RegistryMirrors,
                RegistryAllowedNetworks = options.RegistryAllowedNetworks,
                MaxImageBytes = options.MaxImageBytes,
                SandboxIds = ids,
                BuildScratch = quota,
                BuildStepLimitBytes = options.BuildStepLimitBytes,
            },
            new SandboxBuildStepExecutor(sp.GetRequiredService<IContainerRuntime>(), Path.Combine(options.StateDirectory, "images", "scratch")),
            sp.GetRequiredService<ILogger<ImageStore>>()));
        services.AddSingleton<ImageBuilds>();
        var runtimeOptions = new ContainerRuntimeOptions
        {
            Runtime = options.Runtime,
            StateDirectory = Path.Combine(options.StateDirectory, "sandboxes"),
            UserNamespace = ids,
            Output = options.ExecOutput,
            Quota = quota,
            WritableLayerLimitBytes = options.WritableLayerLimitBytes,
            EgressHosts = options.EgressHosts,
            ExtraClosedNetworks = [.. options.SandboxClosedNetworks.Select(n => n.ToString())],
            CgroupParent = options.CgroupParent,
            Totals = options.SandboxPidsTotal is null && options.SandboxMemoryTotalBytes is null ? null : SandboxTotals.ForHost() is var host
                ? new SandboxTotals(options.SandboxPidsTotal ?? host.Pids, options.SandboxMemoryTotalBytes ?? host.MemoryBytes)
                : null,
        };
        services.AddSingleton(sp => ContainerRuntimeFactory.Create(runtimeOptions, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new SandboxManager(
            sp.GetRequiredService<IContainerRuntime>(), sp.GetRequiredService<ImageBuilds>(), sp.GetRequiredService<VolumeStore>(),
            sp.GetRequiredService<StateDatabase>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SandboxManager>>(),
            new WarmPoolOptions { SizePerKey = options.WarmPoolSize })
        {
            HandoverDirectory = Path.Combine(options.StateDirectory, "handover"),
            HandoverGrace = options.KeepSandboxes,
        });
        services.AddSingleton(sp => new FilesystemSnapshots(
            sp.GetRequiredService<ImageBuilds>(), sp.GetRequiredService<ImageStore>(), Path.Combine(options.StateDirectory, "images", "scratch"),
            sp.GetRequiredService<ILogger<FilesystemSnapshots>>()));
        services.AddSingleton<Mounts.SandboxMounts>();
        services.AddSingleton<Sidecars.SandboxSidecars>();
        services.AddSingleton<SandboxReadiness>();
        services.AddSingleton<Tunnels.ConnectTokens>();
        services.AddSingleton<IOutboundProxy, EgressOutboundProxy>();
        services.AddSingleton<OutboundPolicyUpdates>();
        services.AddSingleton(sp => new MemorySnapshots(sp.GetRequiredService<SandboxManager>(), Path.Combine(options.StateDirectory, "snapshots"),
            MemorySnapshotLimits.Default, sp.GetRequiredService<ILogger<MemorySnapshots>>()));
        services.AddSingleton(sp => new ExitSnapshots(sp.GetRequiredService<ImageBuilds>(), sp.GetRequiredService<ImageStore>(),
            Path.Combine(options.StateDirectory, "images", "scratch"), sp.GetRequiredService<ILogger<ExitSnapshots>>()));
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<StatusMapping>();
            grpc.Interceptors.Add<Authentication>();
            grpc.MaxReceiveMessageSize = 100 * 1024 * 1024;
            grpc.MaxSendMessageSize = 100 * 1024 * 1024;
        });

        var app = builder.Build();
        app.MapGrpcService<ControlPlaneService>();
        app.MapGrpcService<CommandRouterService>();
        Identity.IdentityEndpoints.MapIdentityEndpoints(app);
        EngineToken token;
        try
        {
            // Generated at the first start (or read from the operator's file) before anything listens.
            token = app.Services.GetRequiredService<EngineToken>();
            // Resolving the runtime checks the host (OCI runtime, cgroups, agent) and fails with what to fix.
            app.Services.GetRequiredService<IContainerRuntime>();
            // Sandboxes the engine before handed over (--keep-sandboxes) run on under this one; everything else a previous
            // run of this state directory left behind is removed, and its sandboxes are reported terminated.
            var sandboxes = app.Services.GetRequiredService<SandboxManager>();
            var adopted = await sandboxes.AdoptHandedOverAsync(cancellationToken).ConfigureAwait(false);
            await ContainerRuntimeFactory.RemoveLeftoversAsync(runtimeOptions, app.Services.GetRequiredService<ILoggerFactory>(), adopted, cancellationToken)
                .ConfigureAwait(false);
            await sandboxes.Catalog.ReportOrphansAsync(sandboxes.RunningSandboxIds, cancellationToken).ConfigureAwait(false);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            await database.DisposeAsync().ConfigureAwait(false);
            await quota.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = (app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? throw new InvalidOperationException("Kestrel reported no listening address."));
        var port = new Uri(address).Port;
        var url = new UriBuilder(options.UsesTls ? Uri.UriSchemeHttps : Uri.UriSchemeHttp, AdvertisedHost(options), port).Uri;
        app.Services.GetRequiredService<EngineEndpoint>().ControlPlaneUrl = url;
        string configPath;
        try
        {
            configPath = EngineCredentials.WriteProfile(options.StateDirectory, url, token);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            await database.DisposeAsync().ConfigureAwait(false);
            await quota.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var logger = app.Services.GetRequiredService<ILogger<EngineHost>>();
        Log.Listening(logger, url, token.Id);
        Log.ProfileWritten(logger, configPath);
        Log.IdentityIssuer(logger, identity.Issuer);
        return new EngineHost(app, database, quota, url, token, configPath);
    }

    /// <summary>The host name in the URL handed to clients: the bind address, or this machine's name for a wildcard bind.</summary>
    private static string AdvertisedHost(EngineOptions options)
    {
        if (options.BindAddress.Equals(IPAddress.Any) || options.BindAddress.Equals(IPAddress.IPv6Any))
        {
            // A wildcard bind with TLS: the certificate names this machine, not an address.
            return options.UsesTls ? Dns.GetHostName() : "127.0.0.1";
        }

        return options.BindAddress.ToString();
    }

    private static X509Certificate2 LoadCertificate(EngineOptions options)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(options.TlsCertificatePath!, options.TlsKeyPath);
        }
        catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException(
                $"Could not load the TLS certificate '{options.TlsCertificatePath}' with the key '{options.TlsKeyPath}' (PEM files): {exception.Message}", exception);
        }
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops serving, terminates every sandbox (or hands it to the next engine, see <see cref="EngineOptions.KeepSandboxes"/>) and closes the state database.</summary>
    public async ValueTask DisposeAsync()
    {
        var sandboxes = _app.Services.GetRequiredService<SandboxManager>();
        await _app.StopAsync().ConfigureAwait(false);
        // The container disposes in reverse creation order: sandboxes, then builds, then the runtime.
        await _app.DisposeAsync().ConfigureAwait(false);
        await _database.DisposeAsync().ConfigureAwait(false);
        // Sandboxes handed to the next engine keep their writable layers and volumes on the size-limited filesystem: it
        // stays mounted for that engine, which finds it mounted and uses it (a lazy unmount here would let it mount a
        // second instance of the same filesystem).
        if (sandboxes.HandedOverCount == 0)
        {
            await _quota.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Engine listening on {Url}; callers present the token {TokenId}.")]
        public static partial void Listening(ILogger logger, Uri url, string tokenId);

        [LoggerMessage(2, LogLevel.Information, "MODAL_CONFIG_PATH={ConfigPath}")]
        public static partial void ProfileWritten(ILogger logger, string configPath);

        [LoggerMessage(3, LogLevel.Information, "Sandbox identity tokens are issued by {Issuer} (OIDC discovery and keys over plain HTTP on loopback).")]
        public static partial void IdentityIssuer(ILogger logger, Uri issuer);
    }
}
