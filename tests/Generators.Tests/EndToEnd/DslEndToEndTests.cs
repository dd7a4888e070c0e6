using System.Text;
using TypedSandbox.Testing;

namespace TypedSandbox.Generators.Tests.EndToEnd;

/// <summary>A generated sandbox class driven against the real engine (crun, loopback registry with the test images).</summary>
[Collection(DslEngineGroup.Name)]
public sealed class DslEndToEndTests(DslEngineFixture fixture)
{
    [Fact]
    public async Task A_card_shaped_runner_runs_a_real_test_suite_and_disposing_it_terminates_the_sandbox()
    {
        string id;
        ExecResult passing, failing;
        await using (var r = await CardRunner.CreateAsync(fixture.Client))
        {
            id = r.Sandbox.SandboxId;
            await r.Sandbox.Filesystem.MakeDirectoryAsync("/srv/tests", parents: true);
            await r.Sandbox.Filesystem.WriteTextAsync("/srv/tests/test_card.py", CardSuite("1 + 1 == 2"));
            passing = await r.RunTestsAsync("/srv/tests");
            // Another length than the passing suite: Python's bytecode cache checks a source's size and mtime (whole
            // seconds), so a same-sized rewrite within one second would run the cached passing suite again.
            await r.Sandbox.Filesystem.WriteTextAsync("/srv/tests/test_card.py", CardSuite("1 + 1 == 30"));
            failing = await r.RunTestsAsync("/srv/tests");
        }

        Assert.True(passing.ExitCode == 0, $"unittest exited with {passing.ExitCode}:\n{passing.Stdout}\n{passing.Stderr}");
        Assert.Contains("Ran 2 tests", passing.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("OK\n", passing.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, failing.ExitCode);
        Assert.Contains("FAILED (failures=1)", failing.Stderr, StringComparison.Ordinal);
        await using var after = await fixture.Client.Sandboxes.FromIdAsync(id);
        Assert.Equal(137, await after.PollAsync());
    }

    [Fact]
    public async Task Commands_run_on_the_task_CreateAsync_returns_and_terminate_the_sandbox()
    {
        var before = await RunningCardRunnersAsync();

        var result = await CardRunner.CreateAsync(fixture.Client).RunTestsAsync("/nowhere");

        // unittest ran (and found no such directory) in a sandbox that is no longer running.
        Assert.Contains("/nowhere", result.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal(before, await RunningCardRunnersAsync());
    }

    private async Task<List<string>> RunningCardRunnersAsync()
    {
        var ids = new List<string>();
        await foreach (var listed in CardRunner.ListAsync(client: fixture.Client))
        {
            ids.Add(listed.Sandbox.SandboxId);
            await listed.Sandbox.DetachAsync();
        }

        return ids;
    }

    private static string CardSuite(string second) => $$"""
        import unittest

        class CardTests(unittest.TestCase):
            def test_first(self):
                self.assertTrue(2 > 1)

            def test_second(self):
                self.assertTrue({{second}})
        """;

    [Fact]
    public async Task Placeholders_never_reach_a_shell()
    {
        await using var sandbox = await Toolbox.CreateAsync(fixture.Client);

        var echoed = await sandbox.EchoAsync("a; echo injected $(id) `id` | cat");

        Assert.Equal("[a; echo injected $(id) `id` | cat] [{literal}]\n", echoed.Stdout);
    }

    [Fact]
    public async Task Return_types_choose_buffered_streaming_or_exit_code()
    {
        await using var sandbox = await Toolbox.CreateAsync(fixture.Client);

        Assert.Equal(7, await sandbox.ExitAsync(7));
        Assert.Equal(0, await sandbox.ExitAsync(0));

        await using var process = await sandbox.CountAsync(3);
        var lines = new StringBuilder();
        await foreach (var line in process.Stdout.ReadLinesAsync())
        {
            lines.Append(line).Append('|');
        }

        Assert.Equal(0, await process.WaitAsync());
        Assert.Equal("1|2|3|", lines.ToString());
    }

    [Fact]
    public async Task Secrets_from_the_host_environment_volumes_and_workdir_reach_the_sandbox()
    {
        Environment.SetEnvironmentVariable("TSB_E2E_TOKEN", "s3cret");
        try
        {
            await using var sandbox = await Toolbox.CreateAsync(fixture.Client);

            var env = await sandbox.ShellAsync("printf %s \"$TSB_E2E_TOKEN\"; echo; pwd; echo hello > /data/file && cat /data/file");

            Assert.Equal("s3cret\n/tmp\nhello\n", env.Stdout);
        }
        finally
        {
            Environment.SetEnvironmentVariable("TSB_E2E_TOKEN", null);
        }
    }

    [Fact]
    public async Task Tags_find_the_sandbox_again()
    {
        await using var sandbox = await Toolbox.CreateAsync(fixture.Client);

        var found = new List<string>();
        await foreach (var listed in Toolbox.ListAsync(client: fixture.Client))
        {
            found.Add(listed.Sandbox.SandboxId);
            await listed.Sandbox.DetachAsync();
        }

        Assert.Contains(sandbox.Sandbox.SandboxId, found);
        await using var again = await Toolbox.FromIdAsync(sandbox.Sandbox.SandboxId, fixture.Client);
        Assert.Equal(3, await again.ExitAsync(3));
        await again.Sandbox.DetachAsync();
    }
}

[Sandbox(App = "dsl-e2e", Timeout = "10m")]
[SandboxImage("python:3.13-slim")]
[Volume("/data", "dsl-e2e-volume")]
internal partial class CardRunner
{
    // The card's shape with the test runner python:3.13-slim ships (unittest); the card's own pytest runs in
    // SampleTestRunnerTests, on the sample's Debian image with python3-pytest.
    [Command("python3", "-m", "unittest", "discover", "-s", "{path}")]
    public partial Task<ExecResult> RunTestsAsync(string path);
}

[Sandbox(App = "dsl-e2e", Timeout = "5m", Workdir = "/tmp")]
[SandboxImage("busybox:latest")]
[Volume("/data", "dsl-e2e-toolbox")]
[SecretFromEnvironment("TSB_E2E_TOKEN", Required = false)]
[Tag("suite", "dsl-e2e")]
internal partial class Toolbox
{
    [Command("echo", "[{text}]", "[{{literal}}]")]
    public partial Task<ExecResult> EchoAsync(string text);

    [Command("sh", "-c", "exit {code}")]
    public partial Task<int> ExitAsync(int code);

    [Command("seq", "1", "{count}")]
    public partial Task<ContainerProcess> CountAsync(int count);

    [Command("sh", "-c", "{script}")]
    public partial Task<ExecResult> ShellAsync(string script, CancellationToken cancellationToken = default);
}

/// <summary>One engine for the end-to-end tests; the runtime client points at it.</summary>
public sealed class DslEngineFixture : IAsyncLifetime
{
    private TestEngine? _engine;

    public SandboxClient Client { get; private set; } = null!;

    /// <summary>The engine's Modal profile, for tests that make clients of their own.</summary>
    public string ConfigPath => _engine?.ConfigPath ?? throw new InvalidOperationException("The engine has not started.");

    public async Task InitializeAsync()
    {
        _engine = await TestEngine.StartAsync();
        Client = new SandboxClient(new SandboxClientOptions
        {
            ConfigPath = _engine.ConfigPath,
        });
    }

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DslEngineGroup : ICollectionFixture<DslEngineFixture>
{
    public const string Name = "DSL engine";
}
