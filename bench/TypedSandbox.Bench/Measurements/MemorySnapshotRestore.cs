using System.Diagnostics;
using System.Globalization;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Memory snapshots as a way to start faster than starting: the same warm program (a Python interpreter that imported
/// a set of large modules, then counts) reached by a cold create + warm-up, and by a restore of a snapshot taken of it.
/// Every round, in this order on gVisor (snapshot sandboxes run under runsc): cold create → the interpreter's first
/// output; the snapshot of that sandbox; a restore → the restored interpreter's first new output.
/// </summary>
internal static class MemorySnapshotRestore
{
    public const string Title = "7. memory snapshot: restore of a warm Python interpreter vs cold create + warm-up (C# client, runsc)";

    /// <summary>The warm program: heavy imports, then a count written every 5 ms (the file appears once warm).</summary>
    private const string Program = """
        import email, email.mime.multipart, json, http.client, asyncio, decimal, unittest, argparse, xml.dom.minidom, os, time
        n = 0
        while True:
            n += 1
            open('/tmp/n.new', 'w').write(str(n))
            os.replace('/tmp/n.new', '/tmp/n')
            time.sleep(0.005)
        """;

    public static async Task RunAsync(BenchContext bench, Report report, CancellationToken cancellationToken)
    {
        var section = report.Section(Title, "ms");
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = bench.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("bench", createIfMissing: true, cancellationToken: cancellationToken);
        var image = client.Images.FromRegistry("python:3.13-slim");
        await image.BuildAsync(app, cancellationToken: cancellationToken); // the pull is not part of any series
        var create = new SandboxCreateOptions
        {
            Command = ["python3", "-c", Program],
            ExperimentalEnableSnapshot = true,
            BlockNetwork = true,
            Timeout = TimeSpan.FromMinutes(10),
        };

        List<TimeSpan> cold = [], snapshotTimes = [], restores = [], restoreCalls = [], firstExecs = [];
        for (var round = 0; round < bench.Options.Warmup + bench.Options.Iterations; round++)
        {
            var keep = round >= bench.Options.Warmup;
            var started = Stopwatch.GetTimestamp();
            await using var sandbox = await client.Sandboxes.CreateAsync(app, image, create, cancellationToken);
            await FirstCountAsync(sandbox, after: null, cancellationToken);
            Add(cold, keep, Stopwatch.GetElapsedTime(started));

            started = Stopwatch.GetTimestamp();
            var snapshot = await sandbox.ExperimentalSnapshotAsync(cancellationToken);
            Add(snapshotTimes, keep, Stopwatch.GetElapsedTime(started));

            started = Stopwatch.GetTimestamp();
            await using var restored = await client.Sandboxes.ExperimentalFromSnapshotAsync(snapshot, cancellationToken);
            Add(restoreCalls, keep, Stopwatch.GetElapsedTime(started));
            // The copied file holds the count at the checkpoint: the first different one was written after the restore.
            var atCheckpoint = await FirstCountAsync(restored, after: null, cancellationToken);
            Add(firstExecs, keep, Stopwatch.GetElapsedTime(started));
            await FirstCountAsync(restored, after: atCheckpoint, cancellationToken);
            Add(restores, keep, Stopwatch.GetElapsedTime(started));
            await restored.TerminateAsync(cancellationToken);
        }

        var coldSamples = Samples.Of(cold);
        section.Latency("cold create + warm-up → first output (imports done)", coldSamples);
        section.Latency("memory snapshot of the warm sandbox", Samples.Of(snapshotTimes));
        section.Latency("restore → first new output of the warm interpreter", Samples.Of(restores), ("cold + warm-up", coldSamples));
        // Where the restore's time goes, seen from the client: the call itself, then the first exec's answer.
        section.Latency("of which: restore call returned", Samples.Of(restoreCalls));
        section.Latency("of which: restore → first exec answered (count at the checkpoint)", Samples.Of(firstExecs));
        section.Notes.Add("Python from the test registry's `python:3.13-slim` (built locally from Debian 12: Python 3.11) importing email, json, http.client, asyncio, decimal, unittest, argparse and " +
            "xml.dom.minidom, then writing a count to /tmp/n every 5 ms; output is read by exec (`cat /tmp/n`) polled back to back.");
        section.Notes.Add("On the local engine a snapshot ends its sandbox (runsc checkpoint), and a snapshot sandbox runs with its network blocked.");
    }

    private static void Add(List<TimeSpan> series, bool keep, TimeSpan elapsed)
    {
        if (keep)
        {
            series.Add(elapsed);
        }
    }

    /// <summary>Polls the count until there is one (different from <paramref name="after"/> when given); returns it.</summary>
    private static async Task<int> FirstCountAsync(Sandbox sandbox, int? after, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var text = (await sandbox.RunAsync(["cat", "/tmp/n"], cancellationToken: cancellationToken)).Stdout.Trim();
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n != after)
            {
                return n;
            }
        }
    }
}
