using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Stdout streaming throughput through gRPC, one stream and many concurrent ones, every byte checked against the
/// expected sequence; the peer is the bare runtime's <c>exec … cat</c> read straight from its pipe.
/// </summary>
internal static class StreamThroughput
{
    public const string Title = "4. stdout streaming throughput (1 MB = 10⁶ bytes; every stream checked byte for byte)";

    public static readonly Target Goal = new("≥ 500 MB/s", median => median >= 500);

    /// <summary>One throughput configuration: how many concurrent streams of how many bytes each.</summary>
    public sealed record Shape(int Streams, long BytesPerStream)
    {
        public string Describe() => Streams == 1
            ? string.Create(CultureInfo.InvariantCulture, $"1 stream × {BytesPerStream / 1_000_000} MB")
            : string.Create(CultureInfo.InvariantCulture, $"{Streams} streams × {BytesPerStream / 1_000_000} MB");
    }

    /// <summary>A throughput series: MB/s per run and whether every stream of every run was exact.</summary>
    public sealed record Series(Samples MegabytesPerSecond, bool Exact, string Detail)
    {
        public string Exactness => Exact ? "byte-exact" : $"NOT exact: {Detail}";
    }

    public static IReadOnlyList<Shape> Shapes(BenchOptions options) =>
    [
        new(1, options.StreamMegabytes * 1_000_000L),
        new(options.Streams, options.StreamEachMegabytes * 1_000_000L),
    ];

    public static async Task RunAsync(BenchContext bench, Report report, CancellationToken cancellationToken)
    {
        var section = report.Section(Title, "MB/s");
        var options = bench.Options;
        var raw = new Dictionary<Shape, Series>();
        try
        {
            var id = await bench.Raw.StartIdleAsync(cancellationToken);
            try
            {
                foreach (var shape in Shapes(options))
                {
                    raw[shape] = await RawAsync(bench, id, shape, options.StreamRuns, cancellationToken);
                }
            }
            finally
            {
                await bench.Raw.RemoveAsync(id);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed($"{bench.RawName} exec cat", e);
        }

        foreach (var shape in Shapes(options))
        {
            var subject = $"TypedSandbox, JS SDK, {shape.Describe()}";
            try
            {
                var series = FromJs(await bench.Js.RunAsync("stream", shape.Streams, shape.BytesPerStream, options.StreamRuns));
                section.Throughput(subject, series.MegabytesPerSecond, series.Exactness, Peer(bench, raw, shape), Goal);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                section.Failed(subject, e);
            }
        }

        foreach (var (shape, series) in raw)
        {
            section.Throughput($"{bench.RawName}, `exec … cat` into a pipe, {shape.Describe()}", series.MegabytesPerSecond, series.Exactness);
        }

        section.Notes.Add("Each run starts its execs together and ends when the last stream has ended and its exit code is known; " +
            "the file is written inside the sandbox first (not timed). The p10 column is the slow end for throughput.");
    }

    public static (string, Samples)? Peer(BenchContext bench, Dictionary<Shape, Series> raw, Shape shape) =>
        raw.TryGetValue(shape, out var peer) ? (bench.RawName, peer.MegabytesPerSecond) : null;

    /// <summary>Reads the result of bench.mjs's stream mode (also the shape the C# client measurement reports).</summary>
    public static Series FromJs(JsonElement result)
    {
        var expected = result.GetProperty("expectedBytes").GetInt64();
        var runs = result.GetProperty("runs").EnumerateArray().ToList();
        var rates = runs.Select(r => r.GetProperty("bytes").GetInt64() / 1e6 / (r.GetProperty("elapsedMs").GetDouble() / 1000));
        var inexact = runs.Sum(r => r.GetProperty("inexactStreams").GetInt32());
        var short_ = runs.Count(r => r.GetProperty("bytes").GetInt64() != expected);
        return new Series(new Samples(rates), inexact == 0 && short_ == 0,
            string.Create(CultureInfo.InvariantCulture, $"{inexact} inexact streams, {short_} runs with missing bytes"));
    }

    private static async Task<Series> RawAsync(BenchContext bench, string id, Shape shape, int runs, CancellationToken cancellationToken)
    {
        (await bench.Raw.ExecAsync(id, ["sh", "-c", NumberSequence.WriteCommand(shape.BytesPerStream)], cancellationToken))
            .EnsureSuccess("writing the sequence");
        var expected = NumberSequence.Expected(checked((int)shape.BytesPerStream));
        var rates = new List<double>();
        var failures = 0;
        // One untimed run first, as the JS side does.
        for (var run = -1; run < runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            var results = await Task.WhenAll(Enumerable.Range(0, shape.Streams).Select(async _ =>
            {
                var checker = new NumberSequence.Checker(expected);
                var result = await bench.Raw.ExecAsync(id, ["cat", NumberSequence.DataPath(shape.BytesPerStream)], cancellationToken, chunk => checker.Add(chunk.Span));
                return result.ExitCode == 0 && checker.Exact;
            }));
            var elapsed = Stopwatch.GetElapsedTime(started);
            failures += results.Count(ok => !ok);
            if (run < 0)
            {
                continue;
            }

            rates.Add(shape.Streams * shape.BytesPerStream / 1e6 / elapsed.TotalSeconds);
        }

        return new Series(new Samples(rates), failures == 0, string.Create(CultureInfo.InvariantCulture, $"{failures} inexact streams"));
    }
}
