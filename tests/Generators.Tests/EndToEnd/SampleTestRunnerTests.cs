using TypedSandbox.Samples;
using TypedSandbox.Testing;

namespace TypedSandbox.Generators.Tests.EndToEnd;

/// <summary>
/// samples/TestRunner, step by step as its Program.cs runs it, against an engine (so scripts/test.sh runs the sample):
/// its image is <c>debian:bookworm-slim</c> built locally plus Debian's python3-pytest, as on a fresh machine.
/// </summary>
public sealed class SampleTestRunnerTests(SampleTestRunnerEngine engine) : IClassFixture<SampleTestRunnerEngine>
{
    [Fact]
    public async Task The_TestRunner_sample_runs_its_suite_as_its_program_documents()
    {
        await using var runner = await TestRunner.CreateAsync(engine.Client);
        await runner.Sandbox.Filesystem.MakeDirectoryAsync(SuiteFiles.Directory, parents: true);
        foreach (var (name, text) in SuiteFiles.All)
        {
            await runner.Sandbox.Filesystem.WriteTextAsync($"{SuiteFiles.Directory}/{name}", text);
        }

        var all = await runner.RunTestsAsync(SuiteFiles.Directory);
        var filtered = await runner.RunTestsAsync(SuiteFiles.Directory, filter: "mean", maxFail: 1);

        Assert.True(all.ExitCode == 0, $"pytest exited with {all.ExitCode}:\n{all.Stdout}\n{all.Stderr}");
        Assert.Matches(@"^5 passed in [0-9.]+s$", all.Stdout.TrimEnd('\n').Split('\n')[^1]);
        Assert.True(filtered.ExitCode == 0, $"pytest exited with {filtered.ExitCode}:\n{filtered.Stdout}\n{filtered.Stderr}");
        Assert.Matches(@"^2 passed, 3 deselected in [0-9.]+s$", filtered.Stdout.TrimEnd('\n').Split('\n')[^1]);
    }

    [Fact]
    public async Task The_QuickStart_sample_runs_its_commands_on_the_engine_its_profile_names()
    {
        // samples/QuickStart, built with this project, run as a user runs it: MODAL_CONFIG_PATH names the engine.
        var sample = Path.Combine(RepositoryPaths.Root, "samples", "QuickStart", "bin", BuildConfiguration, "net10.0", "QuickStart.dll");
        Assert.True(File.Exists(sample), $"{sample} is not built");

        var run = await ExternalProcess.RunAsync(
            "dotnet", [sample], RepositoryPaths.Root, new Dictionary<string, string> { ["MODAL_CONFIG_PATH"] = engine.ConfigPath }, TimeSpan.FromMinutes(5));

        Assert.True(run.ExitCode == 0, $"QuickStart failed ({run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
        var lines = run.StdoutLines.Select(l => l.Text).Where(l => !l.StartsWith("  [build]", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(lines, l => l.StartsWith("[embedded engine", StringComparison.Ordinal));
        Assert.Matches("^Started sb-[0-9A-Za-z]+$", lines[0]);
        Assert.Matches("^hello from .+, root$", lines[1]);
        Assert.Equal(["tick 1", "tick 2", "tick 3", "exit code 0"], lines[2..]);
    }

    private static string BuildConfiguration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif
}

/// <summary>
/// An engine whose state directory lives in the test cache (<c>TYPEDSANDBOX_TEST_CACHE</c>), so the sample's image
/// (a Debian base made with mmdebstrap, then an apt step) is built once and reused by later runs.
/// </summary>
public sealed class SampleTestRunnerEngine : IAsyncLifetime
{
    private TestEngine? _engine;

    public SandboxClient Client { get; private set; } = null!;

    /// <summary>The engine's Modal profile.</summary>
    public string ConfigPath => _engine?.ConfigPath ?? throw new InvalidOperationException("The engine has not started.");

    public async Task InitializeAsync()
    {
        _engine = await TestEngine.StartAsync(stateDirectory: Path.Combine(RepositoryPaths.TestCache, "sample-testrunner-state"));
        Client = new SandboxClient(new SandboxClientOptions { ConfigPath = _engine.ConfigPath });
    }

    public async Task DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }

        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }
}
