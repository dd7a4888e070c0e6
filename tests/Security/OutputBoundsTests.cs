using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Sandboxes;
using Xunit.Abstractions;

namespace TypedSandbox.Security.Tests;

/// <summary>Sandbox code trying to exhaust the engine's disk and memory through its output and file reads.</summary>
[Collection(CrunAttacks.Name)]
public sealed class OutputBoundsTests(SecurityEngine engine, ITestOutputHelper output)
{
    /// <summary>Unread output of one stream the engine may hold: its spill file (stdout) plus a memory buffer (stderr).</summary>
    private const long OneStreamBound = OutputBounds.DefaultDiskBytes + OutputBounds.DefaultMemoryBytes;

    [Fact(Timeout = 15 * 60 * 1000)]
    public Task Unread_2GiB_stdout_flood_blocks_the_writer_at_the_bound_then_arrives_whole() => FloodAsync(engine, 2L << 30, output);

    [Theory]
    [InlineData("ln -s /dev/zero /tmp/target")]
    [InlineData("ln -s /dev/urandom /tmp/target")]
    [InlineData("mkfifo /tmp/target")]
    public Task ReadText_of_an_endless_file_fails_cleanly_without_spilling(string plant) => ReadEndlessAsync(engine, plant);

    /// <summary>Floods stdout unread, checks the engine holds at most the bound, then reads it all and checks every byte.</summary>
    internal static async Task FloodAsync(SecurityEngine engine, long floodBytes, ITestOutputHelper output)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(14));
        await using var sandbox = await engine.CreateSandboxAsync(new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(15), Cpu = Math.Min(2, Environment.ProcessorCount) });
        var state = engine.Engine.StateDirectory;
        var spillBefore = EngineFootprint.SpillBytes();
        var diskBefore = EngineFootprint.DiskBytes(state);

        // Random bytes to stdout, and their checksum (computed inside the sandbox from the same bytes) to stderr.
        await using var flood = await sandbox.ExecAsync(
            ["sh", "-c", $"mkfifo /tmp/sum; sha256sum < /tmp/sum >&2 & head -c {floodBytes} /dev/urandom | tee /tmp/sum; wait"],
            cancellationToken: patience.Token);

        // Nobody reads: the engine's spill grows to the bound, then stays there because the writer is blocked.
        long peak = 0, last = -1;
        var stableSince = DateTime.UtcNow;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            var now = EngineFootprint.SpillBytes() - spillBefore + Math.Max(0, EngineFootprint.DiskBytes(state) - diskBefore);
            peak = Math.Max(peak, now);
            if (now != last)
            {
                (last, stableSince) = (now, DateTime.UtcNow);
            }
            else if (now > 0 && DateTime.UtcNow - stableSince > TimeSpan.FromSeconds(4))
            {
                break;
            }

            await Task.Delay(250, patience.Token);
        }

        output.WriteLine($"unread flood: engine spill peaked at {peak / (1024 * 1024.0):0.0} MiB (bound {OneStreamBound / (1024 * 1024.0):0.0} MiB)");
        Assert.True(peak > 0, "the flood never reached the engine's spill");
        Assert.True(peak <= OneStreamBound, $"the engine held {peak} bytes of unread output; the bound is {OneStreamBound}");
        Assert.Null(await flood.PollAsync(patience.Token));

        // Then the client reads: every byte arrives, in order.
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        long total = 0;
        int n;
        var watch = Stopwatch.StartNew();
        while ((n = await flood.Stdout.ReadAsync(buffer, patience.Token)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }

        watch.Stop();
        var checksum = await flood.Stderr.ReadToEndAsync(patience.Token);
        Assert.Equal(0, await flood.WaitAsync(patience.Token));
        output.WriteLine($"read {total} bytes in {watch.Elapsed.TotalSeconds:0.0} s ({total / watch.Elapsed.TotalSeconds / (1024 * 1024):0} MiB/s)");
        Assert.Equal(floodBytes, total);
        Assert.Equal(checksum.Split(' ')[0].Trim(), Convert.ToHexStringLower(sha.GetHashAndReset()));
        Assert.True(EngineFootprint.SpillBytes() - spillBefore <= OneStreamBound);
    }

    /// <summary>Plants an endless file at /tmp/target and reads it with the filesystem API.</summary>
    internal static async Task ReadEndlessAsync(SecurityEngine engine, string plant)
    {
        await using var sandbox = await engine.CreateSandboxAsync();
        Assert.Equal(0, (await sandbox.RunAsync(["sh", "-c", plant])).ExitCode);
        var spillBefore = EngineFootprint.SpillBytes();
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<SandboxFilesystemException>(() => sandbox.Filesystem.ReadTextAsync("/tmp/target"));

        Assert.Contains("regular file", error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"the read took {watch.Elapsed}");
        Assert.True(EngineFootprint.SpillBytes() - spillBefore <= 0, "the refused read left spill behind");
        // Files whose stat size is 0 are still read whole: the limit counts bytes read.
        Assert.Contains("Name:", await sandbox.Filesystem.ReadTextAsync("/proc/self/status"), StringComparison.Ordinal);
    }

    /// <summary>Unread output each exec of the pile-up tests leaves: three of them hold more than the sandbox's bound.</summary>
    private const int PileBytes = 48 << 20;

    [Fact(Timeout = 5 * 60 * 1000)]
    public async Task Finished_execs_with_unread_output_cannot_pile_up_in_a_sandbox()
    {
        var (manager, sandbox) = await PileSandboxAsync();
        await using var _ = sandbox;
        var session = manager.Get(sandbox.SandboxId);
        var execs = new List<ContainerProcess>();
        try
        {
            // Each leaves 48 MiB unread (within one stream's window, so each finishes): three hold more than the bound.
            for (var i = 0; i < 3; i++)
            {
                execs.Add(await FinishedPileExecAsync(sandbox));
            }

            // Within their grace nothing is freed: a client may not have begun reading yet.
            await manager.SweepAsync();
            Assert.All(execs, exec => Assert.NotEqual(0, HeldBytes(session, exec.ExecId)));
            // Past it, the oldest unread output goes first; its exit status stays.
            await manager.SweepAsync(SandboxLifetime.FinishedExecGrace + TimeSpan.FromSeconds(1));
            Assert.True(HeldBytes(session, execs[0].ExecId) == 0, $"the oldest finished exec's output is still held ({HeldBytes(session)} bytes held by the sandbox's execs)");
            Assert.True(HeldBytes(session) <= Server.Sandboxes.SandboxManager.FinishedExecOutputBound);
            Assert.Equal(0, (await session.Execs.Get(session.Id, execs[0].ExecId).Completion).ExitCode);
            var freed = await Assert.ThrowsAsync<NotFoundException>(() => execs[0].Stdout.ReadAllBytesAsync());
            Assert.Contains("output was freed", freed.Message, StringComparison.Ordinal);
            // The newest is still whole.
            Assert.Equal(PileBytes, (await execs[^1].Stdout.ReadAllBytesAsync()).Length);
        }
        finally
        {
            foreach (var exec in execs)
            {
                await exec.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 5 * 60 * 1000)]
    public async Task Finished_execs_a_client_is_streaming_are_not_freed_under_the_reader()
    {
        var (manager, sandbox) = await PileSandboxAsync();
        await using var _ = sandbox;
        var session = manager.Get(sandbox.SandboxId);
        var execs = new List<ContainerProcess>();
        try
        {
            // The oldest exec's stream is open and partly read when the others push the sandbox past its bound.
            execs.Add(await FinishedPileExecAsync(sandbox));
            var first = new byte[1 << 20];
            await execs[0].Stdout.ReadExactlyAsync(first);
            execs.Add(await FinishedPileExecAsync(sandbox));
            execs.Add(await FinishedPileExecAsync(sandbox));

            await manager.SweepAsync(SandboxLifetime.FinishedExecGrace + TimeSpan.FromSeconds(1));
            Assert.True(HeldBytes(session, execs[0].ExecId) > 0, "the exec being read was freed under its reader");
            Assert.True(HeldBytes(session, execs[1].ExecId) == 0, "the oldest exec nobody reads is still held");
            // The reader gets every byte: what it read before the sweep and the rest after it.
            var rest = await ReadToEndAsync(execs[0].Stdout);
            Assert.Equal(PileBytes, first.Length + rest);
        }
        finally
        {
            foreach (var exec in execs)
            {
                await exec.DisposeAsync();
            }
        }
    }

    private async Task<(Server.Sandboxes.SandboxManager Manager, Sandbox Sandbox)> PileSandboxAsync() =>
        (engine.Engine.Host.Services.GetRequiredService<Server.Sandboxes.SandboxManager>(), await engine.CreateSandboxAsync());

    private static async Task<ContainerProcess> FinishedPileExecAsync(Sandbox sandbox)
    {
        var exec = await sandbox.ExecAsync(["head", "-c", PileBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "/dev/zero"]);
        Assert.Equal(0, await exec.WaitAsync());
        return exec;
    }

    private static long HeldBytes(Server.Sandboxes.SandboxSession session) =>
        session.Execs.Values.Sum(p => p.Stdout.FootprintBytes + p.Stderr.FootprintBytes);

    private static long HeldBytes(Server.Sandboxes.SandboxSession session, string execId)
    {
        var process = session.Execs.Get(session.Id, execId);
        return process.Stdout.FootprintBytes + process.Stderr.FootprintBytes;
    }

    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task A_hundred_streams_started_at_once_lose_no_byte_and_every_exit_status_answers()
    {
        const int Streams = 100;
        const int Bytes = 4_000_000;
        await using var sandbox = await engine.CreateSandboxAsync();
        var prepared = await sandbox.RunAsync(["sh", "-c", $"head -c {Bytes} /dev/urandom > /tmp/data && sha256sum /tmp/data"]);
        Assert.Equal(0, prepared.ExitCode);
        var expected = prepared.Stdout.Split(' ')[0];
        // Three rounds in one sandbox: the finished execs of the earlier rounds push the sandbox past its bound while
        // the next round's execs finish before their readers attach, and their clients ask for exit statuses after EOF.
        for (var round = 0; round < 3; round++)
        {
            var execs = new List<ContainerProcess>();
            try
            {
                for (var i = 0; i < Streams; i++)
                {
                    execs.Add(await sandbox.ExecAsync(["cat", "/tmp/data"]));
                }

                var digests = await Task.WhenAll(execs.Select(async exec =>
                {
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    var buffer = new byte[256 * 1024];
                    int read;
                    while ((read = await exec.Stdout.ReadAsync(buffer)) > 0)
                    {
                        hash.AppendData(buffer, 0, read);
                    }

                    Assert.Equal(0, await exec.WaitAsync());
                    return Convert.ToHexStringLower(hash.GetHashAndReset());
                }));
                Assert.All(digests, digest => Assert.Equal(expected, digest));
            }
            finally
            {
                foreach (var exec in execs)
                {
                    await exec.DisposeAsync();
                }
            }
        }
    }

    private static async Task<long> ReadToEndAsync(Stream stream)
    {
        var buffer = new byte[1 << 20];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    [Fact]
    public async Task MemoryMiB_above_the_host_is_refused_with_the_host_figure()
    {
        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => engine.CreateSandboxAsync(new SandboxCreateOptions { MemoryMiB = 4_000_000 }));

        Assert.Contains("more than this host has", error.Message, StringComparison.Ordinal);
        Assert.Contains("MiB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cpu_above_the_host_cores_is_refused_with_the_host_figure()
    {
        var cores = Environment.ProcessorCount;

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => engine.CreateSandboxAsync(new SandboxCreateOptions { Cpu = cores + 1 }));

        Assert.Contains($"{cores} cores", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sandbox_that_asks_for_no_cpu_gets_the_one_core_default_quota()
    {
        await using var sandbox = await engine.CreateSandboxAsync();

        var quota = await sandbox.RunAsync(["cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us"]);

        Assert.Equal("100000\n100000\n", quota.Stdout);
    }

    [Fact(Timeout = 5 * 60 * 1000)]
    public async Task A_5000_deep_directory_tree_leaves_no_bundle_after_terminate()
    {
        var state = engine.Engine.StateDirectory;
        var before = EngineFootprint.Bundles(state);
        var sandbox = await engine.CreateSandboxAsync();
        string id;
        try
        {
            id = EngineFootprint.Bundles(state).Except(before).Single();
            // In the writable layer (not /tmp, a tmpfs): 5000 levels, far past PATH_MAX.
            var made = await sandbox.RunAsync(["sh", "-c", DeepTreeRemovalTests.MakeDeepTree("/deep")]);
            Assert.Equal("5000\n", made.Stdout);
        }
        finally
        {
            await sandbox.TerminateAsync();
            await sandbox.DisposeAsync();
        }

        Assert.True(
            await EngineFootprint.EventuallyAsync(() => EngineFootprint.LeftoversOf(state, id).Count == 0, TimeSpan.FromSeconds(60)),
            "left behind: " + string.Join(", ", EngineFootprint.LeftoversOf(state, id)));
    }
}

/// <summary>The same output and file-read attacks against the agent under gVisor.</summary>
[Collection(RunscAttacks.Name)]
public sealed class RunscOutputBoundsTests(RunscSecurityEngine engine, ITestOutputHelper output)
{
    /// <summary>
    /// Four times the bound: enough to show the writer blocked at it and every byte arriving afterwards. gVisor's pipes
    /// move a flood several times slower than the host's (512 MiB took five minutes of the suite), and crun's 2 GiB
    /// case already covers offsets past 2^31.
    /// </summary>
    [Fact(Timeout = 15 * 60 * 1000)]
    public Task Unread_256MiB_stdout_flood_under_runsc_blocks_the_writer_at_the_bound_then_arrives_whole() =>
        OutputBoundsTests.FloodAsync(engine, 256L << 20, output);

    [Theory]
    [InlineData("ln -s /dev/zero /tmp/target")]
    [InlineData("mkfifo /tmp/target")]
    public Task ReadText_of_an_endless_file_under_runsc_fails_cleanly_without_spilling(string plant) =>
        OutputBoundsTests.ReadEndlessAsync(engine, plant);
}
