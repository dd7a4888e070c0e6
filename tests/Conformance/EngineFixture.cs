using System.Text.Json;
using TypedSandbox.Testing;

namespace TypedSandbox.Conformance.Tests;

/// <summary>One engine (crun) and one loopback registry shared by the conformance tests, which run one after another.</summary>
public class EngineFixture : IAsyncLifetime
{
    private TestEngine? _engine;

    internal TestEngine Engine => _engine ?? throw new InvalidOperationException("The engine is not started.");

    /// <summary>The OCI runtime the engine isolates sandboxes with.</summary>
    protected virtual string Runtime => "crun";

    public async Task InitializeAsync() => _engine = await TestEngine.StartAsync(Runtime).ConfigureAwait(false);

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs a script of tests/Conformance/js with Modal's JS SDK against the engine.</summary>
    internal async Task<ProcessOutcome> RunNodeAsync(string script, IEnumerable<string> args, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var environment = new Dictionary<string, string>(Engine.ModalEnvironment);
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var outcome = await ExternalProcess.RunAsync(
            "node", [script, .. args], Path.Combine(RepositoryPaths.Root, "tests", "Conformance", "js"), environment, TimeSpan.FromMinutes(3)).ConfigureAwait(false);
        return outcome;
    }

    /// <summary>Runs one scenario of scenarios.mjs and parses the JSON line it prints.</summary>
    internal async Task<JsonElement> RunScenarioAsync(string scenario, string image = "busybox:latest", IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var environment = new Dictionary<string, string> { ["TEST_IMAGE"] = image };
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var outcome = await RunNodeAsync("scenarios.mjs", [scenario], environment).ConfigureAwait(false);
        Assert.True(outcome.ExitCode == 0, $"scenario {scenario} failed ({outcome.ExitCode}).\nstdout:\n{outcome.Stdout}\nstderr:\n{outcome.Stderr}");
        return JsonDocument.Parse(outcome.StdoutLines[^1].Text).RootElement;
    }
}

[CollectionDefinition(Name)]
public sealed class EngineTests : ICollectionFixture<EngineFixture>
{
    public const string Name = "engine";
}

/// <summary>The same engine on gVisor (runsc).</summary>
public sealed class RunscEngineFixture : EngineFixture
{
    protected override string Runtime => "runsc";
}

[CollectionDefinition(Name)]
public sealed class RunscEngineTests : ICollectionFixture<RunscEngineFixture>
{
    public const string Name = "engine-runsc";
}
