using System.Globalization;

namespace TypedSandbox.Bench;

/// <summary>The benchmark's command-line switches.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        Usage: dotnet run --project bench/TypedSandbox.Bench -c Release -- [switches]
          --iterations N      timed iterations per latency series (default 20)
          --warmup N          untimed iterations first (default 2)
          --settle-ms N       pause after each iteration of an alternating series, so work the engine does after a
                              call (teardown, the next network made ahead) ends before the next series is timed
                              (default 250; 0 = none)
          --runtime NAME      OCI runtime of the engine and of the raw baseline: crun (default), runc, runsc
          --stream-mb N       bytes of the single-stream throughput run, in MB (default 100)
          --streams N         concurrent streams of the second throughput run (default 100)
          --stream-each-mb N  bytes per stream of that run, in MB (default 4)
          --stream-runs N     repetitions of each throughput run (default 3)
          --density N         idle sandboxes for the memory measurement (default 50; 0 skips it)
          --density-network M network of those sandboxes: open (default) or blocked (no slirp4netns per sandbox)
          --burst N           concurrent creates of the burst measurement (8; default 200)
          --burst-network M   network of the burst's sandboxes: open (default) or blocked
          --only LIST         run only these measurements, e.g. 1,2,5 or generator (= 6, needs no engine) or 7 (memory
                              snapshot vs cold start, runsc) or 8 (burst); default all
          --generator-classes N  [Sandbox] classes in the generator measurement's project (default 500)
          --generator-runs N  timed runs per generator series (default 20)
          --out FILE          also write the table here (default bench/results/latest.md)
        """;

    public int Iterations { get; init; } = 20;

    public int Warmup { get; init; } = 2;

    /// <summary>
    /// The pause after each iteration of an alternating measurement (<see cref="Measurements.BenchContext.InterleaveAsync"/>):
    /// without it, the engine's work after one series' call (a sandbox's teardown, the next open network made ahead,
    /// a warm pool's refill) runs during the next series, often the bare runtime's, and slows it.
    /// </summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromMilliseconds(250);

    public string Runtime { get; init; } = "crun";

    public int StreamMegabytes { get; init; } = 100;

    public int Streams { get; init; } = 100;

    public int StreamEachMegabytes { get; init; } = 4;

    public int StreamRuns { get; init; } = 3;

    public int Density { get; init; } = 50;

    /// <summary>True when the density measurement's sandboxes have no network (no slirp4netns process each).</summary>
    public bool DensityBlocked { get; init; }

    public int Burst { get; init; } = 200;

    /// <summary>True when the burst's sandboxes have no network, like the bare runtime's peer containers.</summary>
    public bool BurstBlocked { get; init; }

    public string? OutputFile { get; init; }

    public int GeneratorClasses { get; init; } = 500;

    public int GeneratorRuns { get; init; } = 20;

    /// <summary>The measurements to run (1-8; 6 is the source generator, 7 the memory snapshot, 8 the burst); all when empty.</summary>
    public IReadOnlySet<int> Only { get; init; } = new HashSet<int>();

    /// <summary>True when measurement <paramref name="number"/> is to run.</summary>
    public bool Runs(int number) => Only.Count == 0 || Only.Contains(number);

    /// <summary>True when any engine measurement (all but 6) is to run, so the engine and its peers are needed.</summary>
    public bool RunsEngine => Only.Count == 0 || Only.Any(n => n != 6);

    /// <summary>Parses the switches; null with <paramref name="error"/> set when they are wrong or help was asked for.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        var options = new BenchOptions();
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                error = "";
                return null;
            }

            if (i + 1 >= args.Count)
            {
                error = $"{name} needs a value.";
                return null;
            }

            var value = args[++i];
            int Count(int min)
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min)
                {
                    throw new FormatException($"{name} {value}: expected a whole number ≥ {min}.");
                }

                return n;
            }

            try
            {
                options = name switch
                {
                    "--iterations" => options with { Iterations = Count(1) },
                    "--warmup" => options with { Warmup = Count(0) },
                    "--settle-ms" => options with { Settle = TimeSpan.FromMilliseconds(Count(0)) },
                    "--runtime" when value is "crun" or "runc" or "runsc" => options with { Runtime = value },
                    "--runtime" => throw new FormatException($"--runtime {value}: use crun, runc or runsc."),
                    "--stream-mb" => options with { StreamMegabytes = Count(1) },
                    "--streams" => options with { Streams = Count(1) },
                    "--stream-each-mb" => options with { StreamEachMegabytes = Count(1) },
                    "--stream-runs" => options with { StreamRuns = Count(1) },
                    "--density" => options with { Density = Count(0) },
                    "--density-network" when value is "open" or "blocked" => options with { DensityBlocked = value == "blocked" },
                    "--density-network" => throw new FormatException($"--density-network {value}: use open or blocked."),
                    "--burst" => options with { Burst = Count(1) },
                    "--burst-network" when value is "open" or "blocked" => options with { BurstBlocked = value == "blocked" },
                    "--burst-network" => throw new FormatException($"--burst-network {value}: use open or blocked."),
                    "--out" => options with { OutputFile = value },
                    "--only" => options with { Only = ParseList(name, value) },
                    "--generator-classes" => options with { GeneratorClasses = Count(1) },
                    "--generator-runs" => options with { GeneratorRuns = Count(1) },
                    _ => throw new FormatException($"Unknown switch {name}."),
                };
            }
            catch (FormatException e)
            {
                error = e.Message;
                return null;
            }
        }

        return options;
    }

    private static HashSet<int> ParseList(string name, string value)
    {
        var numbers = new HashSet<int>();
        foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (item == "generator")
            {
                numbers.Add(6);
                continue;
            }

            if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > 8)
            {
                throw new FormatException($"{name} {value}: expected measurement numbers 1-8 (6 = generator) separated by commas.");
            }

            numbers.Add(n);
        }

        return numbers;
    }
}
