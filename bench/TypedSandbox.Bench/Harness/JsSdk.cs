using System.Globalization;
using System.Text.Json;
using TypedSandbox.Testing;

namespace TypedSandbox.Bench.Harness;

/// <summary>Runs bench/js/bench.mjs (Modal's official JavaScript SDK) against the engine and parses the JSON it prints.</summary>
internal sealed class JsSdk(IReadOnlyDictionary<string, string> environment)
{
    private static string Directory => Path.Combine(RepositoryPaths.Root, "bench", "js");

    /// <summary>Installs the SDK (modal@0.11.1, pinned by bench/js/package-lock.json) when it is not there yet.</summary>
    public static async Task EnsureInstalledAsync()
    {
        if (File.Exists(Path.Combine(Directory, "node_modules", "modal", "package.json")))
        {
            return;
        }

        Console.Error.WriteLine("bench: installing Modal's JS SDK (npm install in bench/js)");
        var install = await ExternalProcess.RunAsync(
            "npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], Directory, null, TimeSpan.FromMinutes(5));
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm install in bench/js failed ({install.ExitCode}):\n{install.Stderr}");
        }
    }

    /// <summary>Starts <c>bench.mjs serve</c> for timings interleaved with other series.</summary>
    public JsSession StartSession() => JsSession.Start(environment);

    /// <summary>Runs one mode of bench.mjs and returns its JSON result.</summary>
    public async Task<JsonElement> RunAsync(string mode, params object[] args)
    {
        var arguments = args.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture)!).ToList();
        var outcome = await ExternalProcess.RunAsync(
            "node", ["bench.mjs", mode, .. arguments], Directory, environment, TimeSpan.FromMinutes(15));
        if (outcome.ExitCode != 0 || outcome.StdoutLines.Count == 0)
        {
            throw new InvalidOperationException($"node bench.mjs {mode} failed ({outcome.ExitCode}):\n{outcome.Stderr.Trim()}");
        }

        return JsonDocument.Parse(outcome.StdoutLines[^1].Text).RootElement.Clone();
    }
}
