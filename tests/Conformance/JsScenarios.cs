using System.Text.Json;
using TypedSandbox.Testing;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Runs the scripts of tests/Conformance/js (each built on js/harness.mjs) with Modal's JS SDK against an engine, and
/// reads what they print: one JSON line per scenario, with captured failures as <c>{ ok: false, error }</c>.
/// </summary>
internal static class JsScenarios
{
    /// <summary>Runs <c>node script args</c> with the engine's Modal profile and the test images' names in the environment.</summary>
    public static Task<ProcessOutcome> RunNodeAsync(
        IReadOnlyDictionary<string, string> modalEnvironment, string script, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
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

        return ExternalProcess.RunAsync("node", [script, .. args], Path.Combine(RepositoryPaths.Root, "tests", "Conformance", "js"), variables, TimeSpan.FromMinutes(3));
    }

    /// <summary>Runs one scenario of a script; fails unless it exits 0; returns the JSON line it printed last.</summary>
    public static async Task<JsonElement> RunAsync(
        IReadOnlyDictionary<string, string> modalEnvironment, string script, string scenario, IReadOnlyDictionary<string, string>? environment = null)
    {
        var outcome = await RunNodeAsync(modalEnvironment, script, [scenario], environment).ConfigureAwait(false);
        Assert.True(outcome.ExitCode == 0, $"{script} {scenario} failed ({outcome.ExitCode}).\nstdout:\n{outcome.Stdout}\nstderr:\n{outcome.Stderr}");
        return JsonDocument.Parse(outcome.StdoutLines[^1].Text).RootElement;
    }

    /// <summary>The error of a captured failure (the SDK's error class, message and gRPC code); fails the test if the call succeeded.</summary>
    public static JsError Failure(JsonElement entry, string name)
    {
        Assert.False(entry.GetProperty("ok").GetBoolean(), $"{name} unexpectedly succeeded: {entry}");
        var error = entry.GetProperty("error");
        var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : (int?)null;
        return new JsError(error.GetProperty("name").GetString() ?? "", error.GetProperty("message").GetString() ?? "", code);
    }

    /// <summary>The message of the captured failure <c>result[name]</c>; fails the test if the call succeeded.</summary>
    public static string Error(JsonElement result, string name) => Failure(result.GetProperty(name), name).Message;

    /// <summary>The message and error class of a captured failure.</summary>
    public static string Error(JsonElement entry, string name, out string errorClass)
    {
        var error = Failure(entry, name);
        errorClass = error.Class;
        return error.Message;
    }

    /// <summary>
    /// Fails unless <c>result[name]</c> failed with the SDK error class <paramref name="errorClass"/> and a message
    /// containing <paramref name="message"/>.
    /// </summary>
    public static void AssertFailed(JsonElement result, string name, string errorClass, string message)
    {
        var error = Failure(result.GetProperty(name), name);
        Assert.True(error.Class == errorClass, $"{name}: expected {errorClass}, got {error}");
        Assert.True(error.Message.Contains(message, StringComparison.Ordinal), $"{name}: expected a message with '{message}', got {error}");
    }
}

/// <summary>An error a JS scenario captured: the SDK's error class, its message and its gRPC status code if any.</summary>
internal sealed record JsError(string Class, string Message, int? Code);
