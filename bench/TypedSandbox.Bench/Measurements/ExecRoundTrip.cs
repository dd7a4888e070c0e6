using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Exec round trip of <c>true</c> on a running sandbox: JS SDK <c>exec(["true"])</c> + <c>wait()</c>, against the bare
/// runtime's <c>exec &lt;id&gt; true</c> on a running container of the same rootfs, and docker/podman <c>exec</c>.
/// </summary>
internal static class ExecRoundTrip
{
    public const string Title = "2. exec round trip of `true` on a running sandbox";

    public static readonly Target Goal = new("≤ 10 ms", median => median <= 10);

    public static async Task RunAsync(BenchContext bench, Report report, CancellationToken cancellationToken)
    {
        var section = report.Section(Title, "ms");
        var options = bench.Options;
        Samples? raw = null;
        try
        {
            var id = await bench.Raw.StartIdleAsync(cancellationToken);
            try
            {
                raw = await BenchContext.RepeatAsync(options.Warmup, options.Iterations, async () =>
                    (await bench.Raw.ExecAsync(id, ["true"], cancellationToken)).EnsureSuccess($"{options.Runtime} exec true").Elapsed);
            }
            finally
            {
                await bench.Raw.RemoveAsync(id);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed($"{bench.RawName} exec", e);
        }

        var peer = raw is null ? ((string, Samples)?)null : (bench.RawName, raw);
        try
        {
            var result = await bench.Js.RunAsync("exec-true", options.Iterations, options.Warmup);
            var samples = new Samples(result.GetProperty("samples").EnumerateArray().Select(s => s.GetDouble()));
            section.Latency("TypedSandbox, JS SDK (`exec` + `wait`)", samples, peer, Goal);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed("TypedSandbox, JS SDK", e);
        }

        if (raw is not null)
        {
            section.Latency($"{bench.RawName} (`{options.Runtime} exec <id> true`)", raw);
        }

        foreach (var cli in bench.Clis)
        {
            var subject = $"`{cli.Name} exec`";
            if (cli.Cli is null || cli.Image is null)
            {
                section.Unavailable(subject, cli.Reason);
                continue;
            }

            try
            {
                var id = await cli.Cli.StartIdleAsync(cli.Image, cancellationToken);
                try
                {
                    var samples = await BenchContext.RepeatAsync(options.Warmup, options.Iterations, () => cli.Cli.ExecTrueAsync(id, cancellationToken));
                    section.Latency(subject, samples, peer);
                }
                finally
                {
                    await cli.Cli.RemoveAsync(id);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                section.Failed(subject, e);
            }
        }

        section.Notes.Add($"The {bench.RawName} times include starting the runtime's process from .NET, as any tool driving it pays.");
    }
}
