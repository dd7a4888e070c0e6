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
}

/// <summary>
/// An engine whose state directory lives in the test cache (<c>TYPEDSANDBOX_TEST_CACHE</c>), so the sample's image
/// (a Debian base made with mmdebstrap, then an apt step) is built once and reused by later runs.
/// </summary>
public sealed class SampleTestRunnerEngine : IAsyncLifetime
{
    private TestEngine? _engine;

    public SandboxClient Client { get; private set; } = null!;

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
