using System.Diagnostics;
using System.Text.Json;
using TypedSandbox.Testing;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Nothing is lost across an engine restart: apps, images, volumes and named secrets persist in the state directory;
/// sandboxes that were running are reported as terminated (137), unless the engine runs with --keep-sandboxes (then
/// the next engine adopts them). Checked through Modal's JS SDK after a clean stop and after the engine process is killed.
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class RestartTests(FeatureEngineFixture fixture)
{
    private static readonly Dictionary<string, string> App = new() { ["TEST_APP"] = "restart", ["SECRET_NAME"] = "restart-secret" };

    [Fact]
    public async Task After_a_clean_restart_everything_is_still_there_and_running_sandboxes_are_reported_terminated()
    {
        var state = TestEngine.NewStateDirectory();
        try
        {
            JsonElement before;
            await using (var first = await TestEngine.StartAsync(registry: fixture.Engine.Registry, stateDirectory: state))
            {
                await FeatureEngineFixture.CreateSecretAsync(first, "restart-secret", new Dictionary<string, string> { ["RESTART_KEY"] = "from-first-engine" });
                before = await FeatureEngineFixture.RunAsync(first, "restart.mjs", "before", App);
            }

            await using var second = await TestEngine.StartAsync(registry: fixture.Engine.Registry, stateDirectory: state);
            var after = await FeatureEngineFixture.RunAsync(second, "restart.mjs", "after", new Dictionary<string, string>(App) { ["BEFORE"] = before.GetRawText() });

            AssertSurvived(after, "from-first-engine");
        }
        finally
        {
            TestEngine.DeleteStateDirectory(state);
        }
    }

    [Fact]
    public async Task After_the_engine_process_is_killed_a_new_engine_cleans_up_and_reports_its_sandboxes_terminated()
    {
        var state = TestEngine.NewStateDirectory();
        try
        {
            // The secret goes in through the engine's own command, as an operator would add it.
            var set = await ExternalProcess.RunAsync(
                ServerExecutable, ["secret", "set", "restart-secret", "RESTART_KEY", "--state-dir", state], AppContext.BaseDirectory,
                new Dictionary<string, string> { ["RESTART_KEY"] = "from-the-command" }, TimeSpan.FromMinutes(1));
            Assert.True(set.ExitCode == 0, set.Stderr);
            Assert.DoesNotContain("from-the-command", set.Stdout, StringComparison.Ordinal);

            JsonElement before;
            var process = await StartServerAsync(state);
            try
            {
                before = await JsScenarios.RunAsync(TestEngine.ModalEnvironmentFor(state), "restart.mjs", "before", App);
            }
            finally
            {
                process.Process.Kill(); // SIGKILL: no shutdown code runs.
                await process.Process.WaitForExitAsync();
                process.Process.Dispose();
            }

            await using (var second = await TestEngine.StartAsync(registry: fixture.Engine.Registry, stateDirectory: state))
            {
                // The new engine removed what the dead one's sandboxes left on the host.
                Assert.Empty(Directory.GetDirectories(Path.Combine(state, "sandboxes", "bundles")));
                var after = await FeatureEngineFixture.RunAsync(second, "restart.mjs", "after", new Dictionary<string, string>(App) { ["BEFORE"] = before.GetRawText() });
                AssertSurvived(after, "from-the-command");
                Assert.Contains("The engine restarted while the sandbox was running", JsScenarios.Error(after, "oldExec"), StringComparison.Ordinal);
            }

            Assert.DoesNotContain(state, await File.ReadAllTextAsync("/proc/mounts"), StringComparison.Ordinal);
        }
        finally
        {
            TestEngine.DeleteStateDirectory(state);
        }
    }

    [Fact]
    public async Task With_keep_sandboxes_an_exec_streams_on_through_Modal_JS_SDK_while_the_engine_is_restarted()
    {
        var state = TestEngine.NewStateDirectory();
        var marker = Path.Combine(Path.GetTempPath(), "tsb-handover-" + Guid.NewGuid().ToString("N"));
        (Process Process, Uri Url)? engine = null;
        try
        {
            engine = await StartServerAsync(state, "--keep-sandboxes", "120");
            var port = engine.Value.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var scenario = JsScenarios.RunNodeAsync(TestEngine.ModalEnvironmentFor(state), "handover.mjs", ["stream"],
                new Dictionary<string, string>(App) { ["MARKER"] = marker, ["TEST_APP"] = "handover" });
            using (var patience = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
            {
                while (!File.Exists(marker) && !scenario.IsCompleted)
                {
                    await Task.Delay(50, patience.Token);
                }
            }

            Assert.False(scenario.IsCompleted, "the scenario ended before the restart: " + (await scenario).Stderr);
            // SIGTERM, as a service manager stops it for an upgrade; then a new engine on the same state directory and port.
            await StopAsync(engine.Value.Process);
            engine = await StartServerAsync(state, "--port", port);

            var outcome = await scenario;
            Assert.True(outcome.ExitCode == 0, $"handover.mjs failed ({outcome.ExitCode}).\nstdout:\n{outcome.Stdout}\nstderr:\n{outcome.Stderr}");
            var result = JsonDocument.Parse(outcome.StdoutLines[^1].Text).RootElement;
            Assert.Equal(string.Concat(Enumerable.Range(1, 300).Select(i => $"line-{i}\n")), result.GetProperty("text").GetString());
            Assert.Equal(7, result.GetProperty("code").GetInt32());
            Assert.Equal(0, result.GetProperty("finishedCode").GetInt32());
            Assert.Equal("finished before the restart\n", result.GetProperty("finishedText").GetString());
            Assert.Equal(JsonValueKind.Null, result.GetProperty("poll").ValueKind);
            Assert.Equal("yes", result.GetProperty("tags").GetProperty("kept").GetString());
            Assert.Equal("after\n", result.GetProperty("after").GetProperty("stdout").GetString());
            Assert.Equal(137, result.GetProperty("end").GetInt32());
        }
        finally
        {
            if (engine is { } running)
            {
                await StopAsync(running.Process);
            }

            File.Delete(marker);
            Assert.True(!Directory.Exists(Path.Combine(state, "sandboxes", "bundles")) || Directory.GetDirectories(Path.Combine(state, "sandboxes", "bundles")).Length == 0,
                "a sandbox's bundle was left behind");
            TestEngine.DeleteStateDirectory(state);
        }
    }

    /// <summary>Stops the engine executable with SIGTERM (it ends or hands over its sandboxes) and waits for it.</summary>
    private static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            await ExternalProcess.RunAsync("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], "/", null, TimeSpan.FromSeconds(10));
        }

        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(patience.Token);
        process.Dispose();
    }

    private static void AssertSurvived(JsonElement after, string secretValue)
    {
        Assert.True(after.GetProperty("sameApp").GetBoolean(), "the app kept its id");
        Assert.True(after.GetProperty("sameVolume").GetBoolean(), "the volume kept its id");
        Assert.True(after.GetProperty("sameImage").GetBoolean(), "the image definition maps to the same image");
        Assert.Matches("^im-", after.GetProperty("reusedImage").GetString());
        Assert.Equal(137, after.GetProperty("oldPoll").GetInt32());
        Assert.Equal(137, after.GetProperty("oldWait").GetInt32());
        Assert.Contains("has already finished", JsScenarios.Error(after, "oldExec"), StringComparison.Ordinal);
        Assert.Equal(3, after.GetProperty("finishedPoll").GetInt32());
        JsScenarios.AssertFailed(after, "byName", "NotFoundError", "not found");
        Assert.Empty(after.GetProperty("listed").EnumerateArray());
        var inside = after.GetProperty("inside");
        Assert.Equal("kept\n", inside.GetProperty("volume").GetString());
        Assert.Equal("survives-restart\n", inside.GetProperty("baked").GetString());
        Assert.Equal(secretValue + "\n", inside.GetProperty("secret").GetString());
    }

    private static string ServerExecutable => Path.Combine(AppContext.BaseDirectory, "TypedSandbox.Server");

    private async Task<(Process Process, Uri Url)> StartServerAsync(string state, params string[] switches)
    {
        string[] port = switches.Contains("--port") ? [] : ["--port", "0"];
        var start = new ProcessStartInfo(ServerExecutable, [.. port, "--state-dir", state, "--registry-mirror", fixture.Engine.Registry.Url.ToString(), .. switches])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("The engine executable did not start.");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                const string Marker = "TypedSandbox engine listening on ";
                if (line.StartsWith(Marker, StringComparison.Ordinal))
                {
                    // Keep draining its output so it never blocks on a full pipe.
                    _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
                    return (process, new Uri(line[Marker.Length..].Split(' ')[0]));
                }
            }

            throw new InvalidOperationException("The engine executable exited before listening.");
        }
        catch
        {
            process.Kill();
            await process.WaitForExitAsync();
            process.Dispose();
            throw;
        }
    }
}
