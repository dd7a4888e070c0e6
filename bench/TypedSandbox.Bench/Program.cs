using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Bench;
using TypedSandbox.Bench.Baselines;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Measurements;
using TypedSandbox.Bench.Reporting;
using TypedSandbox.Server.Images;
using TypedSandbox.Testing;

// One command, one table: the engine measured side by side with the bare OCI runtime (and docker/podman when they work
// here), every series in the same run. Progress goes to stderr, the table to stdout and to a markdown file.
var options = BenchOptions.Parse(args, out var error);
if (options is null)
{
    await Console.Error.WriteLineAsync(string.IsNullOrEmpty(error) ? BenchOptions.Usage : $"{error}\n\n{BenchOptions.Usage}");
    return string.IsNullOrEmpty(error) ? 0 : 2;
}

using var cancel = new CancellationTokenSource();
// Ctrl+C or SIGTERM stops measuring but lets every finally block remove what it created. (The in-process engine's
// ASP.NET Core host listens to the same signals and begins stopping itself; the measurements then fail fast.)
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
var token = cancel.Token;

static void Progress(string message) => Console.Error.WriteLine($"bench: {message}");

var loadAtStart = LoadAverage();
var report = new Report(await DescribeMachineAsync(options));
if (options.RunsEngine && !await RunEngineMeasurementsAsync(options, report, token))
{
    return 130;
}

if (options.Runs(6))
{
    Progress(GeneratorRun.Title);
    try
    {
        await GeneratorRun.RunAsync(options, report, token);
    }
    catch (OperationCanceledException) when (token.IsCancellationRequested)
    {
        Progress("cancelled");
        return 130;
    }
    catch (Exception e)
    {
        report.Section(GeneratorRun.Title, "ms").Failed("the whole measurement", e);
    }
}

report.AddContext("host load", $"1-minute load average {loadAtStart} at the start, {LoadAverage()} at the end " +
    "(other work on the host widens p90s and moves MemAvailable)");
var markdown = report.ToMarkdown();
Console.WriteLine(markdown);
var output = options.OutputFile ?? Path.Combine(RepositoryPaths.Root, "bench", "results", "latest.md");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
await File.WriteAllTextAsync(output, markdown, token);
Progress($"wrote {Path.GetRelativePath(Environment.CurrentDirectory, output)}");
return 0;

// Measurements 1-5: the engine against the bare OCI runtime (and docker/podman), all in this run. False when cancelled.
static async Task<bool> RunEngineMeasurementsAsync(BenchOptions options, Report report, CancellationToken token)
{
    await JsSdk.EnsureInstalledAsync();
    Progress($"starting the loopback registry and the engine ({options.Runtime})");
    await using var engine = await TestEngine.StartAsync(options.Runtime);
    var js = new JsSdk(new Dictionary<string, string>(engine.ModalEnvironment) { ["BENCH_IMAGE"] = "busybox:latest", ["BENCH_APP"] = "bench" });

    // The same layers the engine stacks for its sandboxes: built (pulled) once by the engine's own image store.
    var image = await engine.Host.Services.GetRequiredService<ImageStore>()
        .GetOrBuildAsync(["FROM busybox:latest"], new DiscardBuildLog(), token);
    await using var raw = new RawOciRuntime(options.Runtime, Path.Combine(engine.StateDirectory, "bench"), image);

    var clis = new List<CliPeer>();
    // docker installed without a running daemon: the bench starts one of its own for its docker rows.
    await using var dockerDaemon = options.Runs(1) || options.Runs(2) ? await StartDockerDaemonIfNeededAsync(report, token) : null;
    foreach (var name in new[] { "docker", "podman" })
    {
        var (cli, reason) = await ContainerCli.FindAsync(name, token, name == "docker" ? dockerDaemon?.HostArguments : null);
        string? pulled = null;
        if (cli is not null)
        {
            try
            {
                pulled = await cli.PullAsync(engine.Registry.Url, "library/busybox:latest", token);
            }
            catch (InvalidOperationException e)
            {
                (cli, reason) = (null, "pull failed: " + e.Message);
            }
        }

        clis.Add(new CliPeer(name, cli, pulled, reason));
    }

    var bench = new BenchContext(options, engine, js, raw, clis);
    // Density runs before the burst and the throughput measurements, which would leave the engine's heap (and RSS)
    // moving under its readings; the report lists the sections by number.
    var measurements = new (string Title, Func<BenchContext, Report, CancellationToken, Task> Run, bool Enabled)[]
    {
        (CreateToFirstOutput.Title, CreateToFirstOutput.RunAsync, options.Runs(1)),
        (ExecRoundTrip.Title, ExecRoundTrip.RunAsync, options.Runs(2)),
        (Density.Title, Density.RunAsync, options.Runs(5) && options.Density > 0),
        (Burst.Title, Burst.RunAsync, options.Runs(8)),
        (CSharpClient.Title, CSharpClient.RunAsync, options.Runs(3)),
        (StreamThroughput.Title, StreamThroughput.RunAsync, options.Runs(4)),
        (MemorySnapshotRestore.Title, MemorySnapshotRestore.RunAsync, options.Runs(7)),
    };
    foreach (var (title, run, _) in measurements.Where(m => m.Enabled))
    {
        Progress(title);
        try
        {
            await run(bench, report, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Progress("cancelled; removing what was created");
            return false;
        }
        catch (Exception e)
        {
            // Each measurement reports its own failures row by row; this catches what escapes (a setup step) and goes on.
            report.Section(title, "ms").Failed("the whole measurement", e);
        }
    }

    return true;
}

static async Task<PrivateDockerDaemon?> StartDockerDaemonIfNeededAsync(Report report, CancellationToken token)
{
    var (_, reason) = await ContainerCli.FindAsync("docker", token);
    if (reason != ContainerCli.NoDaemon || !PrivateDockerDaemon.CanStart)
    {
        return null;
    }

    Progress("starting a dockerd of the bench's own for the docker rows");
    try
    {
        var daemon = await PrivateDockerDaemon.StartAsync(token);
        report.AddContext("docker", $"dockerd {daemon.Version} started by the bench for its rows (own data root, overlay2, " +
            "no bridge or iptables rules; containers with --network=none), stopped at the end");
        return daemon;
    }
    catch (Exception e) when (e is InvalidOperationException or TimeoutException)
    {
        report.AddContext("docker", "dockerd is installed but did not start: " + e.Message);
        return null;
    }
}

static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

// The machine kind, without names or paths: what a reader needs to compare runs.
static async Task<IReadOnlyList<(string, string)>> DescribeMachineAsync(BenchOptions options)
{
    static string Field(string file, string key) =>
        File.Exists(file)
            ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?[key.Length..].Trim(' ', '\t', ':', '=', '"') ?? "?"
            : "?";

    var memory = long.Parse(Field("/proc/meminfo", "MemTotal").Split(' ')[0], CultureInfo.InvariantCulture) / 1024 / 1024.0;
    var lines = new List<(string, string)>
    {
        ("date (UTC)", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)),
        ("machine", string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} vCPU ({Field("/proc/cpuinfo", "model name")}), {memory:0} GiB RAM")),
        ("system", $"{Field("/etc/os-release", "PRETTY_NAME")}, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}"),
    };
    if (options.RunsEngine)
    {
        var node = await TimedCommand.RunAsync("node", ["--version"], TimeSpan.FromSeconds(30), CancellationToken.None);
        lines.Add(("runtime", await RawOciRuntime.VersionAsync(options.Runtime)));
        lines.Add(("clients", $"Modal JS SDK modal@0.11.1 on node {node.StdoutText.Trim()}; {RuntimeInformation.FrameworkDescription}"));
        // Only the settings of the sections that run.
        var settings = new List<string>();
        if (options.Runs(1) || options.Runs(2) || options.Runs(3) || options.Runs(7))
        {
            settings.Add(string.Create(CultureInfo.InvariantCulture, $"{options.Iterations} iterations after {options.Warmup} warm-up, {options.Settle.TotalMilliseconds:0} ms settle after each"));
        }

        if (options.Runs(3) || options.Runs(4))
        {
            settings.Add(string.Create(CultureInfo.InvariantCulture, $"throughput runs ×{options.StreamRuns}"));
        }

        if (options.Runs(5) && options.Density > 0)
        {
            settings.Add(string.Create(CultureInfo.InvariantCulture, $"density N = {options.Density} ({(options.DensityBlocked ? "blocked" : "open")} network)"));
        }

        if (options.Runs(8))
        {
            settings.Add(string.Create(CultureInfo.InvariantCulture, $"burst N = {options.Burst} ({(options.BurstBlocked ? "blocked" : "open")} network)"));
        }

        lines.Add(("settings", string.Join("; ", settings)));
    }

    if (options.Runs(6))
    {
        lines.Add(("generator", string.Create(CultureInfo.InvariantCulture,
            $"Roslyn {typeof(Microsoft.CodeAnalysis.Compilation).Assembly.GetName().Version} on {RuntimeInformation.FrameworkDescription}; " +
            $"{options.GeneratorClasses} classes, {options.GeneratorRuns} runs per series")));
    }

    return lines;
}

/// <summary>Drops the image build's progress lines (the benchmark only needs the layers).</summary>
internal sealed class DiscardBuildLog : IImageBuildLog
{
    public void Write(string line)
    {
    }
}
