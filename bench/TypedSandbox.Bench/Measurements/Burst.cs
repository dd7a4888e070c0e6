using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// N creates issued at once through the C# client (<see cref="SandboxClient"/>, one client, one process), each then
/// exec <c>true</c>; against N concurrent foreground <c>run</c>s of <c>echo hi</c> on the bare runtime, in the same
/// run. Rates are N over the wall time from the burst's start to the last create answered (the last "hi" read for
/// the bare runtime); latencies count from the burst's start, so they include the queueing the burst causes.
/// </summary>
internal static class Burst
{
    public const string Title = "8. burst: N concurrent creates";

    public static readonly Target RateGoal = new("≥ 200/s", rate => rate >= 200);

    public static async Task RunAsync(BenchContext bench, Report report, CancellationToken cancellationToken)
    {
        var n = bench.Options.Burst;
        var count = n.ToString(CultureInfo.InvariantCulture);
        var rates = report.Section(Title.Replace("8.", "8a.", StringComparison.Ordinal) + ": creates per second", "creates/s");
        var latency = report.Section(Title.Replace("8.", "8b.", StringComparison.Ordinal) + ": single create latency under the burst", "ms");

        Outcome? raw = null;
        try
        {
            raw = await RawAsync(bench, n, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            rates.Failed($"{bench.RawName}, {n} concurrent `run` of `echo hi`", e);
        }

        try
        {
            var engine = await EngineAsync(bench, n, cancellationToken);
            if (engine.Failures.Count > 0)
            {
                // A failed create fails the row: the rate of the creates that worked would flatter the engine.
                rates.Failed($"TypedSandbox (C# client), {n} concurrent creates", engine.Failures[0]);
                rates.Notes.Add($"{engine.Failures.Count} of {n} creates failed.");
            }
            else
            {
                rates.Value("TypedSandbox (C# client), creates answered per second", engine.Rate, $"{count}, 0 failed",
                    raw is { } r ? ReportSection.Ratio(engine.Rate / r.Rate, bench.RawName) : "", RateGoal);
                rates.Value("  the same, counting each create's exec `true` to its exit", n / engine.ExecWall.TotalSeconds, count);
                latency.Latency("TypedSandbox: burst start → create answered", engine.Latencies, raw is { } peer ? (bench.RawName, peer.Latencies) : null);
                latency.Latency("TypedSandbox: burst start → exec `true` exited", engine.ExecLatencies);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            rates.Failed($"TypedSandbox (C# client), {n} concurrent creates", e);
        }

        if (raw is { } baseline)
        {
            rates.Value($"{bench.RawName}: containers started per second (`run` of `echo hi`, first output read)", baseline.Rate, $"{count}, 0 failed");
            latency.Latency($"{bench.RawName}: burst start → \"hi\" read", baseline.Latencies);
        }

        rates.Notes.Add("One reading per subject (not a median): N over the wall time from the burst's start to the last create answered. " +
            "The engine's creates go through one C# client (one channel, HTTP/2 streams multiplexed); the sandboxes are terminated after the timed span. " +
            (bench.Options.BurstBlocked ? "Their network is blocked (no slirp4netns each), like the bare runtime's containers." :
                "Each has the open network (a network namespace and a slirp4netns process each); the bare runtime's containers have none."));
        rates.Notes.Add($"The bare runtime's peer is N foreground `{bench.Options.Runtime} run` of `echo hi` started at once (bundle, overlay " +
            "mount, config.json each), counted until its \"hi\" is read; its containers are deleted after.");
        latency.Notes.Add("Every latency counts from the burst's start, so the queueing a burst causes is in it; p90 is the 90th percentile of the N.");
    }

    private static async Task<Outcome> RawAsync(BenchContext bench, int n, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var latencies = await Task.WhenAll(Enumerable.Range(0, n).Select(_ => Task.Run(async () =>
        {
            var queued = Stopwatch.GetElapsedTime(started);
            // Prepared + first output; the container's deletion after it is outside the returned span.
            return queued + await bench.Raw.RunEchoAsync(cancellationToken);
        }, cancellationToken)));
        var wall = latencies.Max();
        return new Outcome(n / wall.TotalSeconds, Samples.Of(latencies), Samples.Of(latencies), wall, []);
    }

    private static async Task<Outcome> EngineAsync(BenchContext bench, int n, CancellationToken cancellationToken)
    {
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = bench.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("bench", createIfMissing: true, cancellationToken: cancellationToken);
        var image = client.Images.FromRegistry("busybox:latest");
        var create = new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(30), BlockNetwork = bench.Options.BurstBlocked };
        // One create first, untimed, so the image is resolved and the connection is up before the burst.
        await using (await client.Sandboxes.CreateAsync(app, image, create, cancellationToken))
        {
        }

        // Timed span bounds on CLOCK_MONOTONIC (Stopwatch's clock on Linux), so a system-wide `perf record -k
        // CLOCK_MONOTONIC` of the run can be cut to the engine's burst with `perf report --time`.
        Mark("engine burst begins");
        var sandboxes = new ConcurrentBag<Sandbox>();
        var failures = new ConcurrentQueue<Exception>();
        var created = new ConcurrentBag<TimeSpan>();
        var executed = new ConcurrentBag<TimeSpan>();
        var started = Stopwatch.GetTimestamp();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, n).Select(async _ =>
            {
                try
                {
                    var sandbox = await client.Sandboxes.CreateAsync(app, image, create, cancellationToken);
                    created.Add(Stopwatch.GetElapsedTime(started));
                    sandboxes.Add(sandbox);
                    await using var process = await sandbox.ExecAsync(["true"], cancellationToken: cancellationToken);
                    var code = await process.WaitAsync(cancellationToken);
                    executed.Add(Stopwatch.GetElapsedTime(started));
                    if (code != 0)
                    {
                        throw new InvalidOperationException($"true exited with {code}.");
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures.Enqueue(e);
                }
            }));
        }
        finally
        {
            Mark("engine burst ends");
            // Termination is outside the timed span; disposing a sandbox terminates it.
            await Task.WhenAll(sandboxes.Select(s => s.DisposeAsync().AsTask()));
        }

        if (created.IsEmpty || executed.IsEmpty)
        {
            return new Outcome(0, Samples.Of([TimeSpan.Zero]), Samples.Of([TimeSpan.Zero]), TimeSpan.Zero, [.. failures]);
        }

        var wall = created.Max();
        return new Outcome(n / wall.TotalSeconds, Samples.Of(created), Samples.Of(executed), executed.Max(), [.. failures]);
    }

    private static void Mark(string what) => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"bench: {what} at monotonic {Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency:0.000000} s"));

    /// <summary>A burst's result: the rate, each item's latency from the burst's start, and what failed.</summary>
    private sealed record Outcome(double Rate, Samples Latencies, Samples ExecLatencies, TimeSpan ExecWall, IReadOnlyList<Exception> Failures);
}
