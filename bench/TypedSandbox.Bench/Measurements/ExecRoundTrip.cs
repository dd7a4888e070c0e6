using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Exec round trip of <c>true</c> on a running sandbox: JS SDK <c>exec(["true"])</c> + <c>wait()</c>, against the bare
/// runtime's <c>exec &lt;id&gt; true</c> on a running container of the same rootfs, and docker/podman <c>exec</c>, in
/// alternating rounds.
/// </summary>
internal static class ExecRoundTrip
{
    public const string Title = "2. exec round trip of `true` on a running sandbox";

    public static readonly Target Goal = new("≤ 10 ms", median => median <= 10);

    public static async Task RunAsync(BenchContext bench, Report report, CancellationToken cancellationToken)
    {
        var section = report.Section(Title, "ms");
        var options = bench.Options;
        var rawId = await bench.Raw.StartIdleAsync(cancellationToken);
        var cliIds = new List<(CliPeer Peer, string Id)>();
        try
        {
            await using var js = bench.Js.StartSession();
            var unavailable = new List<(CliPeer Peer, string Reason)>();
            foreach (var cli in bench.Clis)
            {
                if (cli.Cli is null || cli.Image is null)
                {
                    unavailable.Add((cli, cli.Reason));
                    continue;
                }

                try
                {
                    cliIds.Add((cli, await cli.Cli.StartIdleAsync(cli.Image, cancellationToken)));
                }
                catch (InvalidOperationException e)
                {
                    unavailable.Add((cli, "failed to start: " + e.Message));
                }
            }

            List<Func<Task<TimeSpan>>> series =
            [
                async () => (await bench.Raw.ExecAsync(rawId, ["true"], cancellationToken)).EnsureSuccess($"{options.Runtime} exec true").Elapsed,
                () => js.TimeAsync("exec-true", cancellationToken),
                .. cliIds.Select(c => (Func<Task<TimeSpan>>)(() => c.Peer.Cli!.ExecTrueAsync(c.Id, cancellationToken))),
            ];
            var outcomes = await BenchContext.InterleaveAsync(options.Warmup, options.Iterations, options.Settle, series, cancellationToken);

            var raw = outcomes[0].Samples;
            var peer = raw is null ? ((string, Samples)?)null : (bench.RawName, raw);
            if (outcomes[1].Samples is { } engine)
            {
                section.Latency("TypedSandbox, JS SDK (`exec` + `wait`)", engine, peer, Goal);
            }
            else
            {
                section.Failed("TypedSandbox, JS SDK", outcomes[1].Error!);
            }

            if (raw is not null)
            {
                section.Latency($"{bench.RawName} (`{options.Runtime} exec <id> true`)", raw);
            }
            else
            {
                section.Failed($"{bench.RawName} exec", outcomes[0].Error!);
            }

            for (var i = 0; i < cliIds.Count; i++)
            {
                var subject = $"`{cliIds[i].Peer.Name} exec`";
                if (outcomes[2 + i].Samples is { } samples)
                {
                    section.Latency(subject, samples, peer);
                }
                else
                {
                    section.Failed(subject, outcomes[2 + i].Error!);
                }
            }

            foreach (var (cli, reason) in unavailable)
            {
                section.Unavailable($"`{cli.Name} exec`", reason);
            }
        }
        finally
        {
            await bench.Raw.RemoveAsync(rawId);
            foreach (var (cli, id) in cliIds)
            {
                await cli.Cli!.RemoveAsync(id);
            }
        }

        section.Notes.Add("The series run in alternating rounds on one running sandbox / container each.");
        section.Notes.Add($"The {bench.RawName} times include starting the runtime's process from .NET, as any tool driving it pays.");
    }
}
