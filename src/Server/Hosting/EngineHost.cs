using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedSandbox.Server.Api;
using TypedSandbox.Server.Apps;
using TypedSandbox.Server.Auth;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.State;
using TypedSandbox.Server.Volumes;

namespace TypedSandbox.Server.Hosting;

/// <summary>
/// The engine as a running server: Kestrel (HTTP/2 only, which Modal's SDKs need for plaintext h2c) serving the
/// control plane and the command router on one endpoint. Used by the executable and in-process by tests and samples.
/// </summary>
public sealed class EngineHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly StateDatabase _database;
    private readonly StorageQuota _quota;

    private EngineHost(WebApplication app, StateDatabase database, StorageQuota quota, Uri url)
    {
        _app = app;
        _database = database;
        _quota = quota;
        Url = url;
    }

    /// <summary>The control-plane URL to give SDKs as <c>MODAL_SERVER_URL</c>.</summary>
    public Uri Url { get; }

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

        Directory.CreateDirectory(options.StateDirectory);
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

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.BindAddress, options.Port, listen => listen.Protocols = HttpProtocols.Http2);
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
        services.AddSingleton<AppRegistry>();
        services.AddSingleton<SecretStore>();
        services.AddSingleton(sp => new VolumeStore(database, quota.VolumesDirectory, sp.GetRequiredService<TimeProvider>(), quota, options.VolumeLimitBytes));
        services.AddSingleton(sp => new ImageStore(
            new ImageStoreOptions
            {
                StateDirectory = Path.Combine(options.StateDirectory, "images"),
                RegistryMirrors = options.RegistryMirrors,
            },
            new SandboxBuildStepExecutor(sp.GetRequiredService<IContainerRuntime>(), Path.Combine(options.StateDirectory, "images", "scratch")),
            sp.GetRequiredService<ILogger<ImageStore>>()));
        services.AddSingleton<ImageBuilds>();
        var runtimeOptions = new ContainerRuntimeOptions
        {
            Runtime = options.Runtime, StateDirectory = Path.Combine(options.StateDirectory, "sandboxes"),
            Quota = quota, WritableLayerLimitBytes = options.WritableLayerLimitBytes,
        };
        services.AddSingleton(sp => ContainerRuntimeFactory.Create(runtimeOptions, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<SandboxManager>();
        services.AddSingleton(sp => new FilesystemSnapshots(
            sp.GetRequiredService<ImageBuilds>(), sp.GetRequiredService<ImageStore>(), Path.Combine(options.StateDirectory, "images", "scratch"),
            sp.GetRequiredService<ILogger<FilesystemSnapshots>>()));
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
        try
        {
            // Resolving the runtime checks the host (OCI runtime, cgroups, agent) and fails with what to fix.
            app.Services.GetRequiredService<IContainerRuntime>();
            // Sandboxes do not outlive the engine: remove what a previous run of this state directory left behind.
            await ContainerRuntimeFactory.RemoveLeftoversAsync(runtimeOptions, app.Services.GetRequiredService<ILoggerFactory>(), cancellationToken)
                .ConfigureAwait(false);
            await app.Services.GetRequiredService<SandboxManager>().ReportOrphansAsync(cancellationToken).ConfigureAwait(false);
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
        var host = options.BindAddress.Equals(IPAddress.Any) ? "127.0.0.1" : options.BindAddress.ToString();
        var url = new Uri($"http://{host}:{port}");
        app.Services.GetRequiredService<EngineEndpoint>().ControlPlaneUrl = url;
        return new EngineHost(app, database, quota, url);
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops serving, terminates every sandbox and closes the state database.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        // The container disposes in reverse creation order: sandboxes, then builds, then the runtime.
        await _app.DisposeAsync().ConfigureAwait(false);
        await _database.DisposeAsync().ConfigureAwait(false);
        await _quota.DisposeAsync().ConfigureAwait(false);
    }
}
