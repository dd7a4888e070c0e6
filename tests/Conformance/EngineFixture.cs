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

    public async Task InitializeAsync() => _engine = await StartEngineAsync().ConfigureAwait(false);

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Starts this fixture's engine; a derived fixture changes its options.</summary>
    private protected virtual Task<TestEngine> StartEngineAsync() => TestEngine.StartAsync(Runtime);

    /// <summary>Runs a script of tests/Conformance/js with Modal's JS SDK against the engine.</summary>
    internal Task<ProcessOutcome> RunNodeAsync(string script, IEnumerable<string> args, IReadOnlyDictionary<string, string>? extraEnvironment = null) =>
        JsScenarios.RunNodeAsync(Engine.ModalEnvironment, script, args, extraEnvironment);

    /// <summary>Runs one scenario of a script against the engine and parses the JSON line it prints.</summary>
    internal Task<JsonElement> RunAsync(string script, string scenario, IReadOnlyDictionary<string, string>? environment = null) =>
        JsScenarios.RunAsync(Engine.ModalEnvironment, script, scenario, environment);

    /// <summary>Runs one scenario of scenarios.mjs and parses the JSON line it prints.</summary>
    internal Task<JsonElement> RunScenarioAsync(string scenario, string image = "busybox:latest", IReadOnlyDictionary<string, string>? extraEnvironment = null) =>
        RunAsync("scenarios.mjs", scenario, new Dictionary<string, string>(extraEnvironment ?? new Dictionary<string, string>()) { ["TEST_IMAGE"] = image });
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
