using TypedSandbox.Bench.Baselines;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Testing;

namespace TypedSandbox.Bench.Measurements;

/// <summary>A container CLI peer: usable (with the image it pulled) or the reason it is not.</summary>
internal sealed record CliPeer(string Name, ContainerCli? Cli, string? Image, string Reason);

/// <summary>Everything the measurements share: the engine, the clients that drive it and the peers it is compared with.</summary>
internal sealed record BenchContext(
    BenchOptions Options,
    TestEngine Engine,
    JsSdk Js,
    RawOciRuntime Raw,
    IReadOnlyList<CliPeer> Clis)
{
    /// <summary>The raw runtime's name in the table, e.g. "raw crun".</summary>
    public string RawName => "raw " + Options.Runtime;

    /// <summary>Runs <paramref name="warmup"/> untimed and <paramref name="iterations"/> timed calls, one after another.</summary>
    public static async Task<Samples> RepeatAsync(int warmup, int iterations, Func<Task<TimeSpan>> measure)
    {
        for (var i = 0; i < warmup; i++)
        {
            await measure();
        }

        var samples = new List<TimeSpan>(iterations);
        for (var i = 0; i < iterations; i++)
        {
            samples.Add(await measure());
        }

        return Samples.Of(samples);
    }

    /// <summary>
    /// Runs several series in turns: every round calls each series once, so load that comes and goes on the host falls
    /// on all of them alike; the first <paramref name="warmup"/> rounds are not kept. After each call the host is left
    /// alone for <paramref name="settle"/>, so what the engine does after a call (teardown, the next network or warm
    /// sandbox made ahead) does not fall on the next series. A series that throws is dropped from later rounds and
    /// reported with its error; the others go on.
    /// </summary>
    public static async Task<IReadOnlyList<SeriesOutcome>> InterleaveAsync(
        int warmup, int iterations, TimeSpan settle, IReadOnlyList<Func<Task<TimeSpan>>> series, CancellationToken cancellationToken)
    {
        var kept = series.Select(_ => new List<TimeSpan>(iterations)).ToArray();
        var errors = new Exception?[series.Count];
        for (var round = 0; round < warmup + iterations; round++)
        {
            for (var s = 0; s < series.Count; s++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (errors[s] is not null)
                {
                    continue;
                }

                try
                {
                    var elapsed = await series[s]();
                    if (settle > TimeSpan.Zero)
                    {
                        await Task.Delay(settle, cancellationToken);
                    }
                    if (round >= warmup)
                    {
                        kept[s].Add(elapsed);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    errors[s] = e;
                }
            }
        }

        return [.. kept.Select((samples, s) => new SeriesOutcome(errors[s] is null ? Samples.Of(samples) : null, errors[s]))];
    }
}

/// <summary>One series of an interleaved measurement: its samples, or the error that stopped it.</summary>
internal sealed record SeriesOutcome(Samples? Samples, Exception? Error);
