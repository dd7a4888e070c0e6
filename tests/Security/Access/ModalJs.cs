using System.Text.Json;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests.Access;

/// <summary>Runs a snippet of Modal's JS SDK (the copy installed under tests/Conformance/js) and reads the JSON line it prints.</summary>
internal static class ModalJs
{
    /// <summary>The SDK's module, imported by absolute URL so the snippet runs from any directory and account.</summary>
    public static string ModuleUrl => new Uri(Path.Combine(RepositoryPaths.Root, "tests", "Conformance", "js", "node_modules", "modal", "dist", "index.js")).AbsoluteUri;

    /// <summary>A module that runs <paramref name="body"/> (which sees <c>modal</c>) and prints
    /// <c>{"ok":true,"value":…}</c> or <c>{"ok":false,"code":…,"message":…}</c> as its last line.</summary>
    public static string Script(string body) => $$"""
        import { ModalClient } from "{{ModuleUrl}}";
        const modal = new ModalClient();
        let result;
        try {
          const value = await (async () => { {{body}} })();
          result = { ok: true, value };
        } catch (e) {
          result = { ok: false, code: e?.code ?? null, message: String(e?.message ?? e) };
        }
        console.log(JSON.stringify(result));
        process.exit(0);
        """;

    /// <summary>The JSON result a <see cref="Script"/> printed.</summary>
    public static JsonElement Result(ProcessOutcome outcome)
    {
        Assert.True(outcome.ExitCode == 0 && outcome.StdoutLines.Count > 0,
            $"node failed ({outcome.ExitCode}).\nstdout:\n{outcome.Stdout}\nstderr:\n{outcome.Stderr}");
        return JsonDocument.Parse(outcome.StdoutLines[^1].Text).RootElement;
    }
}
