using System.Text;
using TypedSandbox.Testing;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>
/// Sandboxes that outlive their engine (<c>--keep-sandboxes</c>): an engine stopped mid-exec hands its sandboxes over,
/// the next engine on the same state directory and port adopts them, and a client's exec output stream continues
/// through the restart without a lost or repeated byte. A handed-over sandbox that no engine adopts ends by itself.
/// </summary>
[Collection(RuntimeEngineGroup.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EngineHandoverTests(EngineFixture fixture)
{
    private const int Lines = 300;

    [Fact]
    public async Task An_exec_runs_on_through_an_engine_restart_and_its_output_continues_without_a_gap()
    {
        var state = TestEngine.NewStateDirectory();
        TestEngine? first = null, second = null;
        try
        {
            first = await StartAsync(state, port: 0, keep: TimeSpan.FromMinutes(2));
            var port = first.Host.Url.Port;
            await using var client = EngineFixture.CreateClient(first.Host);
            var app = await client.Apps.FromNameAsync("handover", createIfMissing: true);
            var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), Tags = new Dictionary<string, string> { ["kept"] = "yes" } });
            await sandbox.SetNameAsync("kept-name");
            var finished = await sandbox.ExecAsync(["echo", "finished before the restart"]);
            Assert.Equal(0, await finished.WaitAsync());
            // Counts to 300 over about 3 s, then exits 7: the engine restarts while it runs.
            var counting = await sandbox.ExecAsync(["sh", "-c", $"i=0; while [ $i -lt {Lines} ]; do i=$((i+1)); echo line-$i; sleep 0.01; done; exit 7"]);
            // stdin written before and after the restart reaches one process, in order.
            var echoing = await sandbox.ExecAsync(["cat"]);
            await echoing.Stdin.WriteAsync("before-");
            Assert.Equal("before-", await ReadAsync(echoing.Stdout, "before-".Length));
            var seen = new StringBuilder();
            while (await counting.Stdout.ReadLineAsync() is { } line)
            {
                seen.Append(line).Append('\n');
                if (line == "line-20")
                {
                    break;
                }
            }

            var stopping = first;
            first = null;
            await stopping.DisposeAsync();
            second = await StartAsync(state, port, keep: TimeSpan.Zero);

            // The same client and the same stream: the read resumes at its offset from the adopting engine.
            seen.Append(await counting.Stdout.ReadToEndAsync());
            Assert.Equal(string.Concat(Enumerable.Range(1, Lines).Select(i => $"line-{i}\n")), seen.ToString());
            Assert.Equal(7, await counting.WaitAsync());
            Assert.Equal("finished before the restart\n", await finished.Stdout.ReadToEndAsync());
            Assert.Equal(0, await finished.WaitAsync());
            await echoing.Stdin.WriteAsync("after");
            await echoing.Stdin.CloseAsync();
            Assert.Equal("after", await echoing.Stdout.ReadToEndAsync());
            Assert.Equal(0, await echoing.WaitAsync());

            // The sandbox runs on under its id, name (set after the create), tags and app: new execs work, and it ends as any other.
            await using var secondClient = EngineFixture.CreateClient(second.Host);
            var adopted = await secondClient.Sandboxes.FromIdAsync(sandbox.SandboxId);
            Assert.Null(await adopted.PollAsync());
            Assert.Equal("yes", (await adopted.GetTagsAsync())["kept"]);
            Assert.Equal(sandbox.SandboxId, (await secondClient.Sandboxes.FromNameAsync("handover", "kept-name")).SandboxId);
            var after = await adopted.RunAsync(["sh", "-c", "echo after; cat /proc/1/cmdline | tr '\\0' ' '"]);
            Assert.StartsWith("after\n", after.Stdout, StringComparison.Ordinal);
            Assert.Contains("typedsandbox-agent", after.Stdout, StringComparison.Ordinal);
            await adopted.TerminateAsync();
            Assert.Equal(137, await adopted.WaitAsync());
        }
        finally
        {
            await StopAllAsync(state, first, second);
        }
    }

    [Fact]
    public async Task A_handed_over_sandbox_no_engine_adopts_ends_after_its_grace_and_is_reported_terminated()
    {
        var state = TestEngine.NewStateDirectory();
        try
        {
            string sandboxId;
            int initPid;
            await using (var first = await StartAsync(state, port: 0, keep: TimeSpan.FromSeconds(2)))
            {
                await using var client = EngineFixture.CreateClient(first.Host);
                var app = await client.Apps.FromNameAsync("handover", createIfMissing: true);
                var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
                    new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) });
                sandboxId = sandbox.SandboxId;
                // The create returns before the container runs; its first exec waits for it.
                Assert.Equal(0, (await sandbox.RunAsync(["true"])).ExitCode);
                initPid = InitPids(state).Single();
            }

            // Kept after the stop, then gone once the grace is over: nobody came for it.
            Assert.True(Directory.Exists($"/proc/{initPid}"), "the sandbox ended with the engine although it was handed over");
            // What waits for the next engine (the sandbox's environment, its channel's key) is root's only.
            var handover = Path.Combine(state, "handover", sandboxId);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(state, "handover")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(handover));
            Assert.All(Directory.GetFiles(handover), file => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file)));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (Directory.Exists($"/proc/{initPid}") && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.False(Directory.Exists($"/proc/{initPid}"), "the sandbox outlived its handover grace");

            await using (var second = await StartAsync(state, port: 0, keep: TimeSpan.Zero))
            {
                await using var client = EngineFixture.CreateClient(second.Host);
                var sandbox = await client.Sandboxes.FromIdAsync(sandboxId);
                Assert.Equal(137, await sandbox.PollAsync());
            }

            AssertNothingLeft(state);
        }
        finally
        {
            TestEngine.DeleteStateDirectory(state);
        }
    }

    [Fact]
    public async Task An_entrypoint_and_an_exec_held_back_by_credit_run_on_through_a_restart_in_an_open_network()
    {
        // Small output bounds: the exec's 589 KB outrun its window many times, so it waits on credit the engines grant as
        // the client reads, across the restart too.
        var bounds = new TypedSandbox.Server.Exec.OutputBounds { MemoryBytes = 16 * 1024, DiskBytes = 64 * 1024 };
        var state = TestEngine.NewStateDirectory();
        TestEngine? first = null, second = null;
        try
        {
            first = await StartAsync(state, port: 0, keep: TimeSpan.FromMinutes(2), bounds);
            var port = first.Host.Url.Port;
            await using var client = EngineFixture.CreateClient(first.Host);
            var app = await client.Apps.FromNameAsync("handover", createIfMissing: true);
            var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), Command = ["sh", "-c", "while [ ! -f /tmp/go ]; do sleep 0.05; done; echo entrypoint-done; exit 3"] });
            var counting = await sandbox.ExecAsync(["seq", "1", "100000"]);
            var seen = new StringBuilder();
            for (var i = 0; i < 20 && await counting.Stdout.ReadLineAsync() is { } line; i++)
            {
                seen.Append(line).Append('\n');
            }

            var stopping = first;
            first = null;
            await stopping.DisposeAsync();
            second = await StartAsync(state, port, keep: TimeSpan.Zero, bounds);

            seen.Append(await counting.Stdout.ReadToEndAsync());
            Assert.Equal(string.Concat(Enumerable.Range(1, 100000).Select(i => $"{i}\n")), seen.ToString());
            Assert.Equal(0, await counting.WaitAsync());
            // The adopting engine started its own slirp4netns on the sandbox's namespace: tap0 comes back.
            await WaitForTapAsync(sandbox);
            // The entrypoint's end is the sandbox's end, as before the restart.
            Assert.Equal(0, (await sandbox.RunAsync(["touch", "/tmp/go"])).ExitCode);
            Assert.Equal(3, await sandbox.WaitAsync());
            Assert.Equal("entrypoint-done\n", await sandbox.Stdout.ReadToEndAsync());
        }
        finally
        {
            await StopAllAsync(state, first, second);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_exec_in_a_gvisor_sandbox_runs_on_through_an_engine_restart(bool blockNetwork)
    {
        var state = TestEngine.NewStateDirectory();
        TestEngine? first = null, second = null;
        try
        {
            first = await StartAsync(state, port: 0, keep: TimeSpan.FromMinutes(2));
            var port = first.Host.Url.Port;
            await using var client = EngineFixture.CreateClient(first.Host);
            var app = await client.Apps.FromNameAsync("handover", createIfMissing: true);
            // gVisor: the Sentry holds the agent's pipes, and the next engine finds them among its descriptors. With an
            // open network runsc runs inside the sandbox's user namespace, and later runsc commands enter it.
            var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), Runtime = "gvisor", BlockNetwork = blockNetwork });
            var counting = await sandbox.ExecAsync(["sh", "-c", $"i=0; while [ $i -lt {Lines} ]; do i=$((i+1)); echo line-$i; sleep 0.01; done; exit 7"]);
            var seen = new StringBuilder();
            while (await counting.Stdout.ReadLineAsync() is { } line)
            {
                seen.Append(line).Append('\n');
                if (line == "line-20")
                {
                    break;
                }
            }

            var stopping = first;
            first = null;
            await stopping.DisposeAsync();
            second = await StartAsync(state, port, keep: TimeSpan.Zero);

            seen.Append(await counting.Stdout.ReadToEndAsync());
            Assert.Equal(string.Concat(Enumerable.Range(1, Lines).Select(i => $"line-{i}\n")), seen.ToString());
            Assert.Equal(7, await counting.WaitAsync());
            // Still gVisor's kernel answering, through the adopted channel.
            var kernel = await sandbox.RunAsync(["cat", "/proc/version"]);
            Assert.StartsWith("Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016", kernel.Stdout, StringComparison.Ordinal);
            if (!blockNetwork)
            {
                // The adopting engine's slirp4netns makes tap0 again in the namespace gVisor's host network uses.
                await WaitForTapAsync(sandbox);
            }

            await sandbox.TerminateAsync();
            Assert.Equal(137, await sandbox.WaitAsync());
        }
        finally
        {
            await StopAllAsync(state, first, second);
        }
    }

    [Fact]
    public async Task A_memory_snapshot_of_an_adopted_sandbox_restores_its_running_process()
    {
        var state = TestEngine.NewStateDirectory();
        TestEngine? first = null, second = null;
        try
        {
            first = await StartAsync(state, port: 0, keep: TimeSpan.FromMinutes(2));
            var port = first.Host.Url.Port;
            await using var client = EngineFixture.CreateClient(first.Host);
            var app = await client.Apps.FromNameAsync("handover", createIfMissing: true);
            var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), ExperimentalEnableSnapshot = true, BlockNetwork = true });
            // The count lives in one shell's memory (an exec left running); the file only shows it.
            await sandbox.ExecAsync(["sh", "-c", "n=0; while true; do n=$((n+1)); echo $n > /tmp/n; sleep 0.1; done"]);
            var before = await CountAtLeastAsync(sandbox, 3);

            var stopping = first;
            first = null;
            await stopping.DisposeAsync();
            second = await StartAsync(state, port, keep: TimeSpan.Zero);

            // The adopted sandbox's channel quiesces and checkpoints like any other.
            var snapshot = await sandbox.ExperimentalSnapshotAsync();
            await using var restored = await client.Sandboxes.ExperimentalFromSnapshotAsync(SandboxSnapshot.FromId(snapshot.SnapshotId));
            Assert.True(await CountAtLeastAsync(restored, before + 5) > before);
        }
        finally
        {
            await StopAllAsync(state, first, second);
        }
    }

    /// <summary>
    /// Waits until the sandbox's network shows slirp4netns's tap0 (an adopting engine brings the network back beside the
    /// adoption, not before it); fails after 30 s. The old slirp4netns's tap0 went with it, so tap0 here is the new one.
    /// </summary>
    private static async Task WaitForTapAsync(Sandbox sandbox)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!(await sandbox.RunAsync(["cat", "/proc/net/dev"], cancellationToken: patience.Token)).Stdout.Contains("tap0", StringComparison.Ordinal))
        {
            await Task.Delay(100, patience.Token);
        }
    }

    private static async Task<int> CountAtLeastAsync(Sandbox sandbox, int atLeast)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            var text = (await sandbox.RunAsync(["cat", "/tmp/n"], cancellationToken: patience.Token)).Stdout.Trim();
            if (int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= atLeast)
            {
                return n;
            }

            await Task.Delay(100, patience.Token);
        }
    }

    [Fact]
    public async Task A_tunnel_answers_again_on_the_same_host_port_after_a_restart()
    {
        var state = TestEngine.NewStateDirectory();
        TestEngine? first = null, second = null;
        try
        {
            first = await StartAsync(state, port: 0, keep: TimeSpan.FromMinutes(2));
            var port = first.Host.Url.Port;
            await using var client = EngineFixture.CreateClient(first.Host);
            var app = await client.Apps.FromNameAsync("handover", createIfMissing: true);
            var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"), new SandboxCreateOptions
            {
                Timeout = TimeSpan.FromMinutes(5),
                Command = ["sh", "-c", "while true; do echo pong | nc -l -p 8080; done"],
                UnencryptedPorts = [8080],
            });
            var before = (await sandbox.TunnelsAsync())[8080];
            Assert.Equal("pong\n", await TunnelAndSnapshotTests.ReadFromAsync(before.UnencryptedHost!, before.UnencryptedPort!.Value));

            var stopping = first;
            first = null;
            await stopping.DisposeAsync();
            second = await StartAsync(state, port, keep: TimeSpan.Zero);

            await using var secondClient = EngineFixture.CreateClient(second.Host);
            var adopted = await secondClient.Sandboxes.FromIdAsync(sandbox.SandboxId);
            var after = (await adopted.TunnelsAsync())[8080];
            Assert.Equal(before.UnencryptedPort, after.UnencryptedPort);
            Assert.Equal("pong\n", await TunnelAndSnapshotTests.ReadFromAsync(after.UnencryptedHost!, after.UnencryptedPort!.Value));
            await adopted.TerminateAsync();
        }
        finally
        {
            await StopAllAsync(state, first, second);
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes of text (what a process echoed so far).</summary>
    private static async Task<string> ReadAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer);
        return Encoding.UTF8.GetString(buffer);
    }

    private Task<TestEngine> StartAsync(string state, int port, TimeSpan keep, TypedSandbox.Server.Exec.OutputBounds? bounds = null) =>
        TestEngine.StartAsync(registry: fixture.Engine.Registry, stateDirectory: state,
            configure: o => o with { Port = port, KeepSandboxes = keep, ExecOutput = bounds ?? o.ExecOutput });

    /// <summary>The host pids of the sandboxes' inits, from the pid files crun writes into their bundles.</summary>
    private static IReadOnlyList<int> InitPids(string state) =>
        [.. Directory.GetDirectories(Path.Combine(state, "sandboxes", "bundles"))
            .Select(bundle => Path.Combine(bundle, "init.pid"))
            .Where(File.Exists)
            .Select(file => int.Parse(File.ReadAllText(file).Trim(), System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>
    /// Stops the test's engines; sandboxes a test that failed before its restart left handed over are adopted by one
    /// more engine and ended with it. Then checks that nothing is left and removes the state directory.
    /// </summary>
    private async Task StopAllAsync(string state, params TestEngine?[] engines)
    {
        try
        {
            foreach (var engine in engines)
            {
                if (engine is not null)
                {
                    await engine.DisposeAsync();
                }
            }

            var handover = Path.Combine(state, "handover");
            if (Directory.Exists(handover) && Directory.EnumerateFileSystemEntries(handover).Any())
            {
                await (await StartAsync(state, port: 0, keep: TimeSpan.Zero)).DisposeAsync();
            }

            AssertNothingLeft(state);
        }
        finally
        {
            TestEngine.DeleteStateDirectory(state);
        }
    }

    private static void AssertNothingLeft(string state)
    {
        var bundles = Path.Combine(state, "sandboxes", "bundles");
        Assert.True(!Directory.Exists(bundles) || Directory.GetDirectories(bundles).Length == 0, "a sandbox's bundle was left behind");
        Assert.False(Directory.Exists(Path.Combine(state, "handover")) && Directory.EnumerateFileSystemEntries(Path.Combine(state, "handover")).Any(),
            "a handover was left behind");
        Assert.DoesNotContain(state, File.ReadAllText("/proc/mounts"), StringComparison.Ordinal);
    }
}
