using System.Text.Json;

namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>Runs a scenario of js/network.mjs (tunnels, idle timeout, resources, network policy, snapshots).</summary>
internal static class NetworkScenarios
{
    public static Task<JsonElement> RunAsync(EngineFixture fixture, string scenario, IReadOnlyDictionary<string, string>? environment = null) =>
        fixture.RunAsync("network.mjs", scenario, environment);

    /// <summary>The message of a captured failure; fails the test if the operation succeeded.</summary>
    public static string Error(JsonElement result, string name) => JsScenarios.Error(result, name);

    /// <summary>stdout, stderr and exit code of an exec the scenario ran.</summary>
    public static (string Stdout, string Stderr, int Code) Exec(JsonElement run) =>
        (run.GetProperty("stdout").GetString() ?? "", run.GetProperty("stderr").GetString() ?? "", run.GetProperty("code").GetInt32());
}
