using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Testing;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// The engine the feature tests (images, volumes, secrets, names, tags, restart) drive through Modal's JS SDK: crun,
/// a listing page of <see cref="ListPageSize"/> sandboxes (so paging is exercised with a few), and every log entry
/// kept for checks.
/// </summary>
public sealed class FeatureEngineFixture : IAsyncLifetime
{
    /// <summary>The engine's listing page size in these tests.</summary>
    public const int ListPageSize = 3;

    private TestEngine? _engine;

    internal TestEngine Engine => _engine ?? throw new InvalidOperationException("The engine is not started.");

    internal CapturedLogs Logs { get; } = new();

    public async Task InitializeAsync() =>
        _engine = await TestEngine.StartAsync(configure: o => o with { SandboxListPageSize = ListPageSize }, logs: Logs).ConfigureAwait(false);

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Creates (or replaces) a named secret the way the engine's <c>secret set</c> command does.</summary>
    internal static Task CreateSecretAsync(TestEngine engine, string name, IReadOnlyDictionary<string, string> values) =>
        engine.Host.Services.GetRequiredService<SecretStore>().PutNamedAsync(SecretStore.DefaultEnvironment, name, values, CancellationToken.None);

    /// <summary>Runs one scenario of a feature script against this fixture's engine.</summary>
    internal Task<JsonElement> RunAsync(string script, string scenario, IReadOnlyDictionary<string, string>? environment = null) =>
        RunAsync(Engine, script, scenario, environment);

    /// <summary>Runs one scenario of tests/Conformance/js/&lt;script&gt; with Modal's JS SDK and parses the JSON line it prints.</summary>
    internal static Task<JsonElement> RunAsync(TestEngine engine, string script, string scenario, IReadOnlyDictionary<string, string>? environment = null) =>
        RunAsync(engine.ModalEnvironment, script, scenario, environment);

    /// <summary>Runs one scenario against the engine <paramref name="modalEnvironment"/> points at.</summary>
    internal static async Task<JsonElement> RunAsync(
        IReadOnlyDictionary<string, string> modalEnvironment, string script, string scenario, IReadOnlyDictionary<string, string>? environment = null)
    {
        var variables = new Dictionary<string, string>(modalEnvironment)
        {
            ["TEST_IMAGE"] = "busybox:latest",
            ["PYTHON_IMAGE"] = "python:3.13-slim",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        var outcome = await ExternalProcess.RunAsync(
            "node", [script, scenario], Path.Combine(RepositoryPaths.Root, "tests", "Conformance", "js"), variables, TimeSpan.FromMinutes(3)).ConfigureAwait(false);
        Assert.True(outcome.ExitCode == 0, $"{script} {scenario} failed ({outcome.ExitCode}).\nstdout:\n{outcome.Stdout}\nstderr:\n{outcome.Stderr}");
        return JsonDocument.Parse(outcome.StdoutLines[^1].Text).RootElement;
    }

    /// <summary>The message of a captured failure ({ ok: false, error }); fails the test if the call succeeded.</summary>
    internal static string Error(JsonElement result, string name) => Error(result.GetProperty(name), name, out _);

    /// <summary>The message and error class name of a captured failure.</summary>
    internal static string Error(JsonElement entry, string name, out string errorClass)
    {
        Assert.False(entry.GetProperty("ok").GetBoolean(), $"{name} unexpectedly succeeded: {entry}");
        errorClass = entry.GetProperty("error").GetProperty("name").GetString() ?? "";
        return entry.GetProperty("error").GetProperty("message").GetString() ?? "";
    }
}

[CollectionDefinition(Name)]
public sealed class FeatureEngineTests : ICollectionFixture<FeatureEngineFixture>
{
    public const string Name = "engine-features";
}
