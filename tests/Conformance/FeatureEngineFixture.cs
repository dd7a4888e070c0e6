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
public sealed class FeatureEngineFixture : EngineFixture
{
    /// <summary>The engine's listing page size in these tests.</summary>
    public const int ListPageSize = 3;

    internal CapturedLogs Logs { get; } = new();

    private protected override Task<TestEngine> StartEngineAsync() =>
        TestEngine.StartAsync(configure: o => o with { SandboxListPageSize = ListPageSize }, logs: Logs);

    /// <summary>Creates (or replaces) a named secret the way the engine's <c>secret set</c> command does.</summary>
    internal static Task CreateSecretAsync(TestEngine engine, string name, IReadOnlyDictionary<string, string> values) =>
        engine.Host.Services.GetRequiredService<SecretStore>().PutNamedAsync(SecretStore.DefaultEnvironment, name, values, CancellationToken.None);

    /// <summary>Runs one scenario of tests/Conformance/js/&lt;script&gt; against another engine (a restarted one).</summary>
    internal static Task<JsonElement> RunAsync(TestEngine engine, string script, string scenario, IReadOnlyDictionary<string, string>? environment = null) =>
        JsScenarios.RunAsync(engine.ModalEnvironment, script, scenario, environment);
}

[CollectionDefinition(Name)]
public sealed class FeatureEngineTests : ICollectionFixture<FeatureEngineFixture>
{
    public const string Name = "engine-features";
}
