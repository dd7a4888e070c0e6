using Microsoft.Extensions.Logging;
using TypedSandbox.Server.Auth;
using TypedSandbox.Server.Hosting;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Testing;

/// <summary>
/// An in-process engine on a free port with its own state directory, pulling through a loopback registry mirror.
/// A caller that passes a state directory or a registry keeps them (to start a second engine on the same state, as
/// after a restart); otherwise the engine owns and removes them.
/// </summary>
internal sealed class TestEngine : IAsyncDisposable
{
    private readonly bool _ownsRegistry;
    private readonly bool _ownsStateDirectory;

    private TestEngine(EngineHost host, LoopbackRegistry registry, string stateDirectory, bool ownsRegistry, bool ownsStateDirectory)
    {
        Host = host;
        Registry = registry;
        StateDirectory = stateDirectory;
        _ownsRegistry = ownsRegistry;
        _ownsStateDirectory = ownsStateDirectory;
    }

    public EngineHost Host { get; }

    public LoopbackRegistry Registry { get; }

    public string StateDirectory { get; }

    public Uri Url => Host.Url;

    /// <summary>The token pair the engine accepts.</summary>
    public EngineToken Token => Host.Token;

    /// <summary>The engine's Modal profile (<c>&lt;state&gt;/modal.toml</c>: URL and token pair).</summary>
    public string ConfigPath => Host.ConfigPath;

    /// <summary>Environment for Modal's SDKs: only <c>MODAL_CONFIG_PATH</c>, the engine's profile (URL and token pair).</summary>
    public IReadOnlyDictionary<string, string> ModalEnvironment => ModalEnvironmentFor(StateDirectory);

    /// <summary>Environment for Modal's SDKs talking to the engine whose state directory is <paramref name="stateDirectory"/>
    /// (an engine writes its profile there at each start).</summary>
    public static IReadOnlyDictionary<string, string> ModalEnvironmentFor(string stateDirectory) => new Dictionary<string, string>
    {
        ["MODAL_CONFIG_PATH"] = Path.Combine(stateDirectory, "modal.toml"),
    };

    /// <summary>A fresh state directory path under the temp directory (not created).</summary>
    public static string NewStateDirectory() => Path.Combine(Path.GetTempPath(), "typedsandbox-test-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>Starts an engine.</summary>
    /// <param name="runtime">The OCI runtime.</param>
    /// <param name="registry">A registry to share (kept running on dispose); null starts one the engine owns.</param>
    /// <param name="stateDirectory">A state directory to use (kept on dispose); null makes a temporary one.</param>
    /// <param name="configure">Changes to the engine's options.</param>
    /// <param name="logs">Also receives the engine's log (every level), e.g. to check what it writes.</param>
    public static async Task<TestEngine> StartAsync(
        string runtime = "crun", LoopbackRegistry? registry = null, string? stateDirectory = null,
        Func<EngineOptions, EngineOptions>? configure = null, ILoggerProvider? logs = null)
    {
        var ownsRegistry = registry is null;
        registry ??= await LoopbackRegistry.StartAsync().ConfigureAwait(false);
        var state = stateDirectory ?? NewStateDirectory();
        // TYPEDSANDBOX_TEST_ENGINE_LOG=Debug (any LogLevel name) shows the engine's log at that level on the console,
        // e.g. the phase timings of each sandbox start when profiling the bench.
        var consoleLevel = Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("TYPEDSANDBOX_TEST_ENGINE_LOG"), ignoreCase: true, out var level)
            ? level
            : LogLevel.Warning;
        var options = new EngineOptions { Port = 0, StateDirectory = state, Runtime = runtime, RegistryMirrors = [RegistryMirror.Parse(registry.Url.ToString())] };
        try
        {
            var host = await EngineHost.StartAsync(
                configure is null ? options : configure(options),
                logging =>
                {
                    logging.AddSimpleConsole(o =>
                    {
                        o.SingleLine = true;
                        // Milliseconds: the timeline of a create (its RPCs, its start's phases) when profiling.
                        o.TimestampFormat = "HH:mm:ss.fff ";
                    });
                    logging.AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(l => l >= consoleLevel);
                    if (logs is not null)
                    {
                        logging.AddProvider(logs);
                        logging.SetMinimumLevel(LogLevel.Trace);
                    }
                    else
                    {
                        logging.SetMinimumLevel(consoleLevel < LogLevel.Warning ? consoleLevel : LogLevel.Warning);
                    }
                }).ConfigureAwait(false);
            return new TestEngine(host, registry, state, ownsRegistry, stateDirectory is null);
        }
        catch
        {
            if (ownsRegistry)
            {
                await registry.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync().ConfigureAwait(false);
        if (_ownsRegistry)
        {
            await Registry.DisposeAsync().ConfigureAwait(false);
        }

        if (_ownsStateDirectory)
        {
            DeleteStateDirectory(StateDirectory);
        }
    }

    /// <summary>Removes a state directory an engine used (the engine must be stopped).</summary>
    public static void DeleteStateDirectory(string stateDirectory)
    {
        try
        {
            Directory.Delete(stateDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Never created, or a leftover the engine could not remove (reported by the isolation tests, not here).
        }
    }
}
