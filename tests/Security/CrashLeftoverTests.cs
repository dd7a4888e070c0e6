using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests;

/// <summary>An engine killed hard (SIGKILL) mid-flood: whatever its sandboxes left, the next start removes.</summary>
[Collection(CrunAttacks.Name)]
public sealed class CrashLeftoverTests(SecurityEngine engine)
{
    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task An_engine_killed_mid_flood_leaves_nothing_that_the_next_start_does_not_remove() =>
        await KillThenRestartAsync(engine.Engine.Registry, "crun", async (client, child, state) =>
            {
                var app = await RetryAsync(() => client.Apps.FromNameAsync("crash-leftovers", createIfMissing: true), child);
                var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
                    new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) });
                Assert.Equal(0, (await sandbox.RunAsync(["true"])).ExitCode);
                var id = EngineFootprint.Bundles(state).Single();
                await sandbox.ExecAsync(["sh", "-c", "head -c 1073741824 /dev/zero"]);
                var pid = child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(await EngineFootprint.EventuallyAsync(() => EngineFootprint.SpillBytes(pid) > 0, TimeSpan.FromMinutes(1)),
                    "the unread flood never reached the engine's spill");
                Assert.True(EngineFootprint.SpillBytes(pid) <= OutputBoundsLimit);
                return id;
            },
            state =>
            {
                var spill = Path.Combine(state, "sandboxes", "spill");
                Assert.True(!Directory.Exists(spill) || Directory.GetFiles(spill).Length == 0, "spill files outlived the engine");
            });

    /// <summary>
    /// Runs the engine executable with <paramref name="runtime"/> on a fresh state directory, lets <paramref name="work"/>
    /// make a sandbox (it returns its id), kills the engine with SIGKILL, checks that the dead engine left that sandbox
    /// behind (so the test can fail) and that the next start removes all of it; cleans up whatever happens.
    /// </summary>
    internal static async Task KillThenRestartAsync(LoopbackRegistry registry, string runtime,
        Func<SandboxClient, Process, string, Task<string>> work, Action<string>? afterKill = null)
    {
        var state = TestEngine.NewStateDirectory();
        string id;
        try
        {
            using (var child = StartEngineProcess(state, FreePort(), registry.Url, runtime))
            {
                try
                {
                    await using var client = await SecurityEngine.CreateClientFromProfileAsync(state);
                    id = await work(client, child, state);
                }
                finally
                {
                    child.Kill(); // SIGKILL: no cleanup of any kind runs.
                    await child.WaitForExitAsync();
                }
            }

            afterKill?.Invoke(state);
            Assert.NotEmpty(EngineFootprint.LeftoversOf(state, id));

            await using (await TestEngine.StartAsync(runtime, registry, state))
            {
                Assert.Empty(EngineFootprint.LeftoversOf(state, id));
                Assert.Empty(EngineFootprint.SandboxMountsUnder(state));
            }
        }
        finally
        {
            foreach (var mount in EngineFootprint.MountsUnder(state + "/"))
            {
                await ExternalProcess.RunAsync("umount", ["-l", mount], "/", null, TimeSpan.FromSeconds(30));
            }

            TestEngine.DeleteStateDirectory(state);
        }
    }

    private const long OutputBoundsLimit = Server.Exec.OutputBounds.DefaultDiskBytes + Server.Exec.OutputBounds.DefaultMemoryBytes;

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The engine executable (as an operator runs it) on <paramref name="port"/>, its output drained and dropped.</summary>
    internal static Process StartEngineProcess(string state, int port, Uri registry, string runtime = "crun")
    {
        var dotnet = Environment.ProcessPath is { } host && Path.GetFileName(host) == "dotnet" ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "TypedSandbox.Server.dll"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--state-dir", state, "--registry-mirror", registry.ToString(), "--runtime", runtime,
                 })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the engine");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Retries <paramref name="call"/> while the engine starts listening (at most a minute).</summary>
    internal static async Task<T> RetryAsync<T>(Func<Task<T>> call, Process engine)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (DateTime.UtcNow < deadline && !engine.HasExited)
            {
                await Task.Delay(500);
            }
        }
    }
}

/// <summary>
/// An engine killed hard while a runsc sandbox with an open network runs (runsc launched inside the sandbox's user
/// namespace, with a runtime root of its own): the next start removes everything, that runtime state included.
/// </summary>
[Collection(RunscAttacks.Name)]
public sealed class RunscCrashLeftoverTests(RunscSecurityEngine engine)
{
    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task An_engine_killed_under_a_runsc_sandbox_with_an_open_network_leaves_nothing_that_the_next_start_does_not_remove() =>
        await CrashLeftoverTests.KillThenRestartAsync(engine.Engine.Registry, "runsc", async (client, child, state) =>
        {
            var app = await CrashLeftoverTests.RetryAsync(() => client.Apps.FromNameAsync("crash-leftovers-runsc", createIfMissing: true), child);
            var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) });
            var echo = await sandbox.RunAsync(["echo", "up"]);
            Assert.Equal("up\n", echo.Stdout);
            return EngineFootprint.Bundles(state).Single();
        });
}
