using System.Diagnostics;
using System.Globalization;
using System.Text;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// The same measurements through our own C# client (<see cref="SandboxClient"/>), side by side with the JS SDK:
/// create → first output of <c>echo hi</c>, exec round trip of <c>true</c>, and single-stream stdout throughput.
/// </summary>
internal static class CSharpClient
{
    public const string Title = "3. the C# client (`TypedSandbox.SandboxClient`) against Modal's JS SDK";

    public static async Task RunAsync(BenchContext bench, Report report, CancellationToken cancellationToken)
    {
        var section = report.Section(Title.Replace("3.", "3a.", StringComparison.Ordinal) + ": latency", "ms");
        var options = bench.Options;
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = bench.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("bench", createIfMissing: true, cancellationToken: cancellationToken);
        var image = client.Images.FromRegistry("busybox:latest");
        var create = new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(30) };

        await using var js = bench.Js.StartSession();
        await MeasureAsync(section, "C# client, create + exec + first bytes", js, "create-exec", options, async () =>
        {
            var started = Stopwatch.GetTimestamp();
            // Disposing the sandbox terminates it and releases its router connection (outside the timed span).
            await using var sandbox = await client.Sandboxes.CreateAsync(app, image, create, cancellationToken);
            await using var process = await sandbox.ExecAsync(["echo", "hi"], cancellationToken: cancellationToken);
            var buffer = new byte[64];
            var read = await process.Stdout.ReadAsync(buffer, cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (read == 0 || !Encoding.ASCII.GetString(buffer, 0, read).StartsWith('h'))
            {
                throw new InvalidOperationException($"echo hi printed '{Encoding.ASCII.GetString(buffer, 0, read)}'.");
            }

            await process.Stdout.ReadAllBytesAsync(cancellationToken);
            await process.WaitAsync(cancellationToken);
            return elapsed;
        }, CreateToFirstOutput.Goal, cancellationToken);

        await using (var running = await client.Sandboxes.CreateAsync(app, image, create, cancellationToken))
        {
            await MeasureAsync(section, "C# client, exec `true` + wait", js, "exec-true", options, async () =>
            {
                var started = Stopwatch.GetTimestamp();
                await using var process = await running.ExecAsync(["true"], cancellationToken: cancellationToken);
                var code = await process.WaitAsync(cancellationToken);
                var elapsed = Stopwatch.GetElapsedTime(started);
                return code == 0 ? elapsed : throw new InvalidOperationException($"true exited with {code}.");
            }, ExecRoundTrip.Goal, cancellationToken);

            var throughput = report.Section(Title.Replace("3.", "3b.", StringComparison.Ordinal) + ": stdout throughput", "MB/s");
            foreach (var shape in StreamThroughput.Shapes(options))
            {
                try
                {
                    var series = await StreamAsync(running, shape, options.StreamRuns, cancellationToken);
                    var jsSeries = StreamThroughput.FromJs(await bench.Js.RunAsync("stream", shape.Streams, shape.BytesPerStream, options.StreamRuns));
                    throughput.Throughput($"C# client, {shape.Describe()}", series.MegabytesPerSecond, series.Exactness,
                        ("JS SDK", jsSeries.MegabytesPerSecond), StreamThroughput.Goal);
                    throughput.Throughput($"JS SDK, {shape.Describe()}", jsSeries.MegabytesPerSecond, jsSeries.Exactness);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    throughput.Failed($"C# client, {shape.Describe()}", e);
                }
            }

            try
            {
                var shape = StreamThroughput.Shapes(options)[0];
                var (ingest, egress) = await SplitAsync(running, shape, options.StreamRuns, cancellationToken);
                throughput.Throughput($"  ingest only: exec of `head -c` to its exit, nobody reading (1 stream × {SplitBytes / 1_000_000} MB)", ingest, "journaled");
                throughput.Throughput($"  egress only: reading the finished exec's output (1 stream × {SplitBytes / 1_000_000} MB)", egress.MegabytesPerSecond, egress.Exactness);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throughput.Failed("C# client, ingest/egress split", e);
            }

            throughput.Notes.Add("Measured as in section 4; the C# client reads with 256 KiB buffers and checks every byte as it arrives.");
            throughput.Notes.Add("The ingest/egress rows split one stream in two: the engine takes in the process's output " +
                "(agent → engine → output journal) while no client reads, then the client reads the finished journal through gRPC.");
        }

        section.Notes.Add("Each pair runs in alternating rounds (C#, JS, C#, JS, …); the JS SDK rows repeat sections 1 and 2 so the ratio compares neighbours.");
        section.Notes.Add("The C# client resolves its app and image once before the loop, like the JS SDK series.");
    }

    /// <summary>Times the C# series and the JS SDK's same operation in alternating rounds; reports both with the C#/JS ratio.</summary>
    private static async Task MeasureAsync(
        ReportSection section, string subject, JsSession js, string jsOp, BenchOptions options, Func<Task<TimeSpan>> measure, Target goal, CancellationToken cancellationToken)
    {
        var outcomes = await BenchContext.InterleaveAsync(
            options.Warmup, options.Iterations, options.Settle, [measure, () => js.TimeAsync(jsOp, cancellationToken)], cancellationToken);
        var jsSubject = subject.Replace("C# client", "JS SDK", StringComparison.Ordinal);
        if (outcomes[0].Samples is { } csharp)
        {
            section.Latency(subject, csharp, outcomes[1].Samples is { } peer ? ("JS SDK", peer) : null, goal);
        }
        else
        {
            section.Failed(subject, outcomes[0].Error!);
        }

        if (outcomes[1].Samples is { } jsSamples)
        {
            section.Latency(jsSubject, jsSamples);
        }
        else
        {
            section.Failed(jsSubject, outcomes[1].Error!);
        }
    }

    private const long SplitBytes = 50_000_000;

    /// <summary>Times a stream's two halves apart: the exec running to its exit unread, then reading its output.</summary>
    private static async Task<(Samples Ingest, StreamThroughput.Series Egress)> SplitAsync(
        Sandbox sandbox, StreamThroughput.Shape shape, int runs, CancellationToken cancellationToken)
    {
        // An unread exec can run to its exit only if the engine may hold all its output (60 MiB per stream by default;
        // past that it blocks on write, by design), so this split times a prefix of the stream.
        var bytes = Math.Min(shape.BytesPerStream, SplitBytes);
        var expected = NumberSequence.Expected(checked((int)bytes));
        var ingest = new List<double>();
        var egress = new List<double>();
        var failures = 0;
        for (var run = 0; run < runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            await using var process = await sandbox.ExecAsync(
                ["head", "-c", bytes.ToString(CultureInfo.InvariantCulture), NumberSequence.DataPath(shape.BytesPerStream)], cancellationToken: cancellationToken);
            var code = await process.WaitAsync(cancellationToken);
            ingest.Add(bytes / 1e6 / Stopwatch.GetElapsedTime(started).TotalSeconds);
            started = Stopwatch.GetTimestamp();
            var checker = new NumberSequence.Checker(expected);
            var buffer = new byte[256 * 1024];
            int read;
            while ((read = await process.Stdout.ReadAsync(buffer, cancellationToken)) > 0)
            {
                checker.Add(buffer.AsSpan(0, read));
            }

            egress.Add(bytes / 1e6 / Stopwatch.GetElapsedTime(started).TotalSeconds);
            failures += code == 0 && checker.Exact ? 0 : 1;
        }

        return (new Samples(ingest), new StreamThroughput.Series(new Samples(egress), failures == 0,
            string.Create(CultureInfo.InvariantCulture, $"{failures} inexact streams")));
    }

    private static async Task<StreamThroughput.Series> StreamAsync(Sandbox sandbox, StreamThroughput.Shape shape, int runs, CancellationToken cancellationToken)
    {
        await using var prepare = await sandbox.ExecAsync(["sh", "-c", NumberSequence.WriteCommand(shape.BytesPerStream)], cancellationToken: cancellationToken);
        var prepared = await prepare.WaitAsync(cancellationToken);
        if (prepared != 0)
        {
            throw new InvalidOperationException($"writing the sequence exited with {prepared}.");
        }

        var expected = NumberSequence.Expected(checked((int)shape.BytesPerStream));
        var rates = new List<double>();
        var failures = 0;
        // One untimed run first, as the JS side does.
        for (var run = -1; run < runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            var results = await Task.WhenAll(Enumerable.Range(0, shape.Streams).Select(async _ =>
            {
                await using var process = await sandbox.ExecAsync(["cat", NumberSequence.DataPath(shape.BytesPerStream)], cancellationToken: cancellationToken);
                var checker = new NumberSequence.Checker(expected);
                var buffer = new byte[256 * 1024];
                int read;
                while ((read = await process.Stdout.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    checker.Add(buffer.AsSpan(0, read));
                }

                return await process.WaitAsync(cancellationToken) == 0 && checker.Exact;
            }));
            var elapsed = Stopwatch.GetElapsedTime(started);
            failures += results.Count(ok => !ok);
            if (run < 0)
            {
                continue;
            }

            rates.Add(shape.Streams * shape.BytesPerStream / 1e6 / elapsed.TotalSeconds);
        }

        return new StreamThroughput.Series(new Samples(rates), failures == 0, string.Create(CultureInfo.InvariantCulture, $"{failures} inexact streams"));
    }
}
