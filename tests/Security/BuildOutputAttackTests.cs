using Xunit.Abstractions;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// RUN steps that flood the build log, through a real build sandbox and real gRPC: the engine's memory stays bounded,
/// its CPU time linear, and the log's tail still reaches clients following the build (live and joining late).
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class BuildOutputAttackTests(SecurityEngine engine, ITestOutputHelper output)
{
    [Fact]
    public async Task Run_step_printing_120MB_of_lines_keeps_engine_memory_bounded_and_the_tail_reaches_late_joiners()
    {
        var tail = "TAIL-" + Guid.NewGuid().ToString("N");
        var release = "release-" + Guid.NewGuid().ToString("N");
        // The step holds on after the flood until the test releases it, so the late joiner joins a build whose window
        // has rolled; the test releases it once the joiner has its first line.
        var step = $"yes 'TypedSandbox build output, one line of 48 chars' | head -c 125829120; until [ -e /{release} ]; do sleep 0.1; done; echo {tail}";
        var image = engine.Client.Images.FromRegistry("busybox:latest").RunCommands(step);
        var live = new TailLog();
        var late = new TailLog();

        await using var meter = EngineMeter.Start();
        var building = image.BuildAsync(engine.App, live);
        await UntilAsync(() => live.Chars >= 8 << 20 || building.IsCompleted);

        var joining = engine.Client.Images.FromRegistry("busybox:latest").RunCommands(step).BuildAsync(engine.App, late);
        await UntilAsync(() => late.First.Length > 0 || joining.IsCompleted);
        Release(release);
        await Task.WhenAll(building, joining);
        var retained = EngineMeter.RetainedHeapOver(meter.BaselineHeap);
        output.WriteLine($"{meter.Report()}; retained heap +{retained >> 20} MiB; live got {live.Chars >> 20} Mi chars, late got {late.Chars >> 20} Mi chars starting with: {late.First}");

        Assert.True(live.Seen(tail), "the live follower did not get the tail");
        Assert.True(late.Seen(tail), "the late joiner did not get the tail");
        Assert.Contains("were dropped", late.First, StringComparison.Ordinal);
        Assert.True(retained < 128L << 20, $"{retained >> 20} MiB still held after the build; {meter.Report()}");
        Assert.True(meter.PeakRssGrowth < 512L << 20, meter.Report());
        Assert.True(meter.Cpu < TimeSpan.FromSeconds(90), meter.Report());
    }

    [Fact]
    public async Task Run_step_printing_a_40MB_line_without_newline_finishes_in_linear_cpu_time()
    {
        var tail = "TAIL-" + Guid.NewGuid().ToString("N");
        var image = engine.Client.Images.FromRegistry("busybox:latest")
            .RunCommands($"head -c 41943040 /dev/zero | tr '\\0' x; echo; echo {tail}");
        var live = new TailLog();

        await using var meter = EngineMeter.Start();
        await image.BuildAsync(engine.App, live);
        output.WriteLine($"{meter.Report()}; client got {live.Chars >> 20} Mi chars");

        Assert.True(live.Seen(tail), "the client did not get the tail");
        Assert.True(meter.Cpu < TimeSpan.FromSeconds(15), meter.Report());
        Assert.True(meter.PeakRssGrowth < 512L << 20, meter.Report());
    }

    /// <summary>A client's view of build output: the first entry, a count of characters, and whether a marker came.</summary>
    private static async Task UntilAsync(Func<bool> condition)
    {
        for (var waited = TimeSpan.Zero; !condition() && waited < TimeSpan.FromMinutes(3); waited += TimeSpan.FromMilliseconds(50))
        {
            await Task.Delay(50);
        }
    }

    // The file the step waits for, made in the root filesystem of the engine's running build sandboxes (tb-*), as
    // the host sees their overlay.
    private void Release(string name)
    {
        var bundles = Path.Combine(engine.Engine.StateDirectory, "sandboxes", "bundles");
        foreach (var rootfs in Directory.GetDirectories(bundles, "tb-*").Select(bundle => Path.Combine(bundle, "rootfs")).Where(Directory.Exists))
        {
            try
            {
                File.WriteAllBytes(Path.Combine(rootfs, name), []);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // a build sandbox that ended meanwhile
            }
        }
    }

    private sealed class TailLog : IProgress<string>
    {
        private readonly Lock _gate = new();
        private readonly HashSet<string> _markers = new(StringComparer.Ordinal);
        private long _chars;

        public string First { get; private set; } = "";

        public long Chars => Interlocked.Read(ref _chars);

        public bool Seen(string marker)
        {
            lock (_gate)
            {
                return _markers.Contains(marker);
            }
        }

        public void Report(string value)
        {
            Interlocked.Add(ref _chars, value.Length);
            lock (_gate)
            {
                if (First.Length == 0)
                {
                    First = value;
                }

                if (value.StartsWith("TAIL-", StringComparison.Ordinal))
                {
                    _markers.Add(value.TrimEnd('\n'));
                }
            }
        }
    }
}
