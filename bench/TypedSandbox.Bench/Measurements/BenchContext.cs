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
}
