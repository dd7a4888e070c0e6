using Microsoft.Extensions.Logging;
using TypedSandbox.Server.Hosting;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Testing;

/// <summary>An in-process engine on a free port with its own state directory, pulling through a loopback registry mirror.</summary>
internal sealed class TestEngine : IAsyncDisposable
{
    private TestEngine(EngineHost host, LoopbackRegistry registry, string stateDirectory)
    {
        Host = host;
        Registry = registry;
        StateDirectory = stateDirectory;
    }

    public EngineHost Host { get; }

    public LoopbackRegistry Registry { get; }

    public string StateDirectory { get; }

    public Uri Url => Host.Url;

    /// <summary>Environment for Modal's SDKs: the engine's URL and a token pair (any pair is accepted on loopback).</summary>
    public IReadOnlyDictionary<string, string> ModalEnvironment => new Dictionary<string, string>
    {
        ["MODAL_SERVER_URL"] = Url.ToString().TrimEnd('/'),
        ["MODAL_TOKEN_ID"] = "ak-test",
        ["MODAL_TOKEN_SECRET"] = "as-test",
        ["MODAL_CONFIG_PATH"] = Path.Combine(StateDirectory, "no-modal.toml"),
    };

    public static async Task<TestEngine> StartAsync(string runtime = "crun", LoopbackRegistry? registry = null)
    {
        registry ??= await LoopbackRegistry.StartAsync().ConfigureAwait(false);
        var state = Path.Combine(Path.GetTempPath(), "typedsandbox-test-" + Guid.NewGuid().ToString("N")[..12]);
        var host = await EngineHost.StartAsync(
            new EngineOptions { Port = 0, StateDirectory = state, Runtime = runtime, RegistryMirrors = [RegistryMirror.Parse(registry.Url.ToString())] },
            logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)).ConfigureAwait(false);
        return new TestEngine(host, registry, state);
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync().ConfigureAwait(false);
        await Registry.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(StateDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover the engine could not remove is reported by the isolation tests, not here.
        }
    }
}
