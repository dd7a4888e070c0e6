using System.Globalization;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Create → first output of <c>echo hi</c> on a cached image (busybox): the engine through Modal's JS SDK
/// (<c>sandboxes.create</c> + <c>exec</c> + first stdout bytes), the bare OCI runtime (overlay + config.json + <c>run</c>),
/// and docker/podman when they work here.
/// </summary>
internal static class CreateToFirstOutput
{
    public const string Title = "1. create → first output of `echo hi` (busybox, cached image)";

    public static readonly Target Goal = new("≤ 60 ms", median => median <= 60);

    public static async Task RunAsync(BenchContext bench, Report report, CancellationToken cancellationToken)
    {
        var section = report.Section(Title, "ms");
        var options = bench.Options;
        Samples? raw = null;
        try
        {
            raw = await BenchContext.RepeatAsync(options.Warmup, options.Iterations, () => bench.Raw.RunEchoAsync(cancellationToken));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed(bench.RawName + " run", e);
        }

        var peer = raw is null ? ((string, Samples)?)null : (bench.RawName, raw);
        Samples? engine = null;
        try
        {
            var result = await bench.Js.RunAsync("create-exec", options.Iterations, options.Warmup);
            var samples = result.GetProperty("samples").EnumerateArray().ToList();
            Samples Part(string name) => new(samples.Select(s => s.GetProperty(name).GetDouble()));
            engine = Part("total");
            section.Latency("TypedSandbox, JS SDK (create + exec + first bytes)", engine, peer, Goal);
            section.Latency("  of which `sandboxes.create`", Part("create"));
            section.Latency("  of which `exec` call", Part("exec"));
            section.Latency("  of which first stdout bytes", Part("firstOutput"));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed("TypedSandbox, JS SDK", e);
        }

        if (raw is not null)
        {
            section.Latency($"{bench.RawName} (overlay + config.json + `{options.Runtime} run`)", raw);
        }

        foreach (var cli in bench.Clis)
        {
            var subject = $"`{cli.Name} run --rm`";
            if (cli.Cli is null || cli.Image is null)
            {
                section.Unavailable(subject, cli.Reason);
                continue;
            }

            try
            {
                var samples = await BenchContext.RepeatAsync(options.Warmup, options.Iterations, () => cli.Cli.RunEchoAsync(cli.Image, cancellationToken));
                section.Latency(subject, samples, peer);
                if (engine is not null)
                {
                    section.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"TypedSandbox (JS SDK) is {samples.Median / engine.Median:0.0}× faster than {subject} at the median (target: ≥ 4×)."));
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                section.Failed(subject, e);
            }
        }

        section.Notes.Add("The `exec` part on a new sandbox includes setting up the SDK's command-router client for it (a new HTTP/2 connection), which later execs reuse.");
        section.Notes.Add("The JS SDK series runs in one node process: app and image objects are resolved once before the loop, " +
            "as an application would; each iteration terminates its sandbox outside the timed span.");
        section.Notes.Add($"The {bench.RawName} series uses the engine's own image layers (its image store) and is timed from " +
            "before the bundle directories are made to the first stdout bytes read from the runtime; it has no seccomp profile and no agent.");
    }
}
