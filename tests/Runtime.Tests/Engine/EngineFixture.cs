using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Configuration;
using TypedSandbox.Server.Auth;
using TypedSandbox.Server.Hosting;
using TypedSandbox.Testing;
using TypedSandbox.Transport;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>One in-process engine (crun, loopback registry) shared by the client tests against the real engine.</summary>
public sealed class EngineFixture : IAsyncLifetime
{
    private TestEngine? _engine;
    private SandboxClient? _client;
    private App? _app;

    internal TestEngine Engine => _engine ?? throw new InvalidOperationException("The engine is not started.");

    /// <summary>A client of the engine configured only through options (no environment, no config file).</summary>
    public SandboxClient Client => _client ?? throw new InvalidOperationException("The engine is not started.");

    /// <summary>The app the tests create their sandboxes in.</summary>
    public App App => _app ?? throw new InvalidOperationException("The engine is not started.");

    public async Task InitializeAsync()
    {
        _engine = await TestEngine.StartAsync().ConfigureAwait(false);
        _client = CreateClient(Engine.Host);
        _app = await Client.Apps.FromNameAsync("runtime-tests", createIfMissing: true).ConfigureAwait(false);
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }
        if (_engine is not null)
        {
            await _engine.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A client of <paramref name="engine"/> with its token pair, ignoring the machine's MODAL_* variables and config file.</summary>
    internal static SandboxClient CreateClient(EngineHost engine, SandboxClientOptions? options = null,
        Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null, int? maxRetries = null, ILoggerFactory? loggerFactory = null) =>
        CreateClient(engine.Url, engine.Token, options, wrapHandler, maxRetries, loggerFactory);

    /// <summary>A client of <paramref name="url"/> presenting <paramref name="token"/>, ignoring the machine's MODAL_* variables and config file.</summary>
    internal static SandboxClient CreateClient(Uri url, EngineToken token, SandboxClientOptions? options = null,
        Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null, int? maxRetries = null, ILoggerFactory? loggerFactory = null)
    {
        var home = Path.Combine(Path.GetTempPath(), "tsb-no-home");
        var settings = ClientSettingsResolver.Resolve(
            (options ?? new SandboxClientOptions()) with { ServerUrl = url.ToString(), TokenId = token.Id, TokenSecret = token.Secret },
            _ => null, home);
        var retry = maxRetries is { } n ? RetryPolicy.ControlPlane with { MaxRetries = n } : RetryPolicy.ControlPlane;
        return new SandboxClient(settings, loggerFactory ?? NullLoggerFactory.Instance, retry, TimeProvider.System, wrapHandler);
    }

    /// <summary>A sandbox on the test busybox image, terminated when disposed.</summary>
    public Task<Sandbox> CreateSandboxAsync(SandboxCreateOptions? options = null, SandboxClient? client = null)
    {
        client ??= Client;
        return client.Sandboxes.CreateAsync(App, client.Images.FromRegistry("busybox:latest"),
            options ?? new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) });
    }
}

[CollectionDefinition(Name)]
public sealed class RuntimeEngineGroup : ICollectionFixture<EngineFixture>
{
    public const string Name = "runtime-engine";
}
