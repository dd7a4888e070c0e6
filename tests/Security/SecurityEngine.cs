using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Configuration;
using TypedSandbox.Testing;
using TypedSandbox.Transport;

namespace TypedSandbox.Security.Tests;

/// <summary>An in-process engine (crun by default) with a client, shared by the attacks of one collection.</summary>
public class SecurityEngine : IAsyncLifetime
{
    private TestEngine? _engine;
    private SandboxClient? _client;
    private App? _app;

    internal TestEngine Engine => _engine ?? throw new InvalidOperationException("The engine is not started.");

    /// <summary>A client of the engine configured only through options.</summary>
    public SandboxClient Client => _client ?? throw new InvalidOperationException("The engine is not started.");

    /// <summary>The app the attacks create their sandboxes in.</summary>
    public App App => _app ?? throw new InvalidOperationException("The engine is not started.");

    /// <summary>The OCI runtime the engine isolates sandboxes with.</summary>
    protected virtual string Runtime => "crun";

    /// <summary>Changes to the engine's options (e.g. small disk limits); null keeps the defaults.</summary>
    protected virtual Func<TypedSandbox.Server.Hosting.EngineOptions, TypedSandbox.Server.Hosting.EngineOptions>? Configure => null;

    public async Task InitializeAsync()
    {
        _engine = await TestEngine.StartAsync(Runtime, configure: Configure).ConfigureAwait(false);
        _client = CreateClient(Engine.Url, Engine.Token.Id, Engine.Token.Secret);
        _app = await Client.Apps.FromNameAsync("security-tests", createIfMissing: true).ConfigureAwait(false);
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

    /// <summary>A client of <paramref name="url"/> presenting the given token pair (the engine's is <c>Engine.Token</c>),
    /// ignoring the machine's MODAL_* variables and config file.</summary>
    internal static SandboxClient CreateClient(Uri url, string tokenId, string tokenSecret)
    {
        var home = Path.Combine(Path.GetTempPath(), "tsb-no-home");
        var settings = ClientSettingsResolver.Resolve(
            new SandboxClientOptions { ServerUrl = url.ToString(), TokenId = tokenId, TokenSecret = tokenSecret }, _ => null, home);
        return new SandboxClient(settings, NullLoggerFactory.Instance, RetryPolicy.ControlPlane with { MaxRetries = 0 }, TimeProvider.System, null);
    }

    /// <summary>A client of an in-process test engine, with that engine's token.</summary>
    internal static SandboxClient CreateClient(TestEngine engine) => CreateClient(engine.Url, engine.Token.Id, engine.Token.Secret);

    /// <summary>
    /// A client configured only by the Modal profile an engine writes into <paramref name="stateDirectory"/> (as a user
    /// sets <c>MODAL_CONFIG_PATH</c>); waits up to a minute for an engine process that is still starting to write it.
    /// </summary>
    internal static async Task<SandboxClient> CreateClientFromProfileAsync(string stateDirectory)
    {
        var profile = Path.Combine(stateDirectory, "modal.toml");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!File.Exists(profile))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the engine wrote no {profile} within a minute");
            await Task.Delay(50).ConfigureAwait(false);
        }

        var home = Path.Combine(Path.GetTempPath(), "tsb-no-home");
        var settings = ClientSettingsResolver.Resolve(
            new SandboxClientOptions(), name => name == "MODAL_CONFIG_PATH" ? profile : null, home);
        return new SandboxClient(settings, NullLoggerFactory.Instance, RetryPolicy.ControlPlane with { MaxRetries = 0 }, TimeProvider.System, null);
    }

    /// <summary>
    /// A sandbox on the test busybox image (or <paramref name="image"/>), terminated when disposed; returned once it runs
    /// (the client's create returns before its container runs, and the attacks read the host's side of it at once).
    /// </summary>
    public async Task<Sandbox> CreateSandboxAsync(SandboxCreateOptions? options = null, string image = "busybox:latest")
    {
        var sandbox = await Client.Sandboxes.CreateAsync(App, Client.Images.FromRegistry(image), options ?? new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) });
        await Engine.Host.Services.GetRequiredService<Server.Sandboxes.SandboxManager>().GetStartedAsync(sandbox.SandboxId, CancellationToken.None);
        return sandbox;
    }
}

/// <summary>The same engine isolating with gVisor.</summary>
public sealed class RunscSecurityEngine : SecurityEngine
{
    protected override string Runtime => "runsc";
}

[CollectionDefinition(Name)]
public sealed class CrunAttacks : ICollectionFixture<SecurityEngine>
{
    public const string Name = "attacks-crun";
}

[CollectionDefinition(Name)]
public sealed class RunscAttacks : ICollectionFixture<RunscSecurityEngine>
{
    public const string Name = "attacks-runsc";
}
