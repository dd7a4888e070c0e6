using System.Text.Json;

namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>Runs a scenario of js/network.mjs (tunnels, idle timeout, resources, network policy, snapshots).</summary>
internal static class NetworkScenarios
{
    public static async Task<JsonElement> RunAsync(EngineFixture fixture, string scenario, IReadOnlyDictionary<string, string>? environment = null)
    {
        var outcome = await fixture.RunNodeAsync("network.mjs", [scenario], environment).ConfigureAwait(false);
        Assert.True(outcome.ExitCode == 0, $"scenario {scenario} failed ({outcome.ExitCode}).\nstdout:\n{outcome.Stdout}\nstderr:\n{outcome.Stderr}");
        return JsonDocument.Parse(outcome.StdoutLines[^1].Text).RootElement;
    }

    /// <summary>The message of a captured failure; fails the test if the operation succeeded.</summary>
    public static string Error(JsonElement result, string name)
    {
        var entry = result.GetProperty(name);
        Assert.False(entry.GetProperty("ok").GetBoolean(), $"{name} unexpectedly succeeded");
        return entry.GetProperty("error").GetProperty("message").GetString() ?? "";
    }

    /// <summary>stdout, stderr and exit code of an exec the scenario ran.</summary>
    public static (string Stdout, string Stderr, int Code) Exec(JsonElement run) =>
        (run.GetProperty("stdout").GetString() ?? "", run.GetProperty("stderr").GetString() ?? "", run.GetProperty("code").GetInt32());
}
