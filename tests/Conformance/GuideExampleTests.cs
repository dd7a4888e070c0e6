using System.Text.RegularExpressions;

namespace TypedSandbox.Conformance.Tests;

/// <summary>The JavaScript example of Modal's Sandboxes guide, run unchanged (but for timeoutMs) with modal@0.11.1.</summary>
[Collection(EngineTests.Name)]
public sealed partial class GuideExampleTests(EngineFixture fixture)
{
    [Fact]
    public async Task Guide_example_prints_hello_and_ten_timestamps_then_terminates()
    {
        var outcome = await fixture.RunNodeAsync("guide-example.mjs", []);

        Assert.True(outcome.ExitCode == 0, $"exit {outcome.ExitCode}\n{outcome.Stdout}\n{outcome.Stderr}");
        var lines = outcome.StdoutLines;
        var sandboxId = Assert.Single(lines, l => l.Text.StartsWith("Started Sandbox: ", StringComparison.Ordinal)).Text["Started Sandbox: ".Length..];
        // The guide's SDK creates through SandboxCreateV2 by default: the id has that path's shape.
        SandboxIdForm.Assert(sandboxId, v2: true);
        Assert.Contains(lines, l => l.Text == "hello");
        var stamps = lines.Where(l => Timestamp().IsMatch(l.Text)).ToList();
        Assert.Equal(10, stamps.Count);
        // Streamed as printed, not buffered to the end: the lines arrive over the 4.5 s the loop sleeps.
        Assert.True(stamps[^1].ArrivedAt - stamps[0].ArrivedAt > TimeSpan.FromSeconds(3), "the timestamps arrived all at once");
        var session = fixture.Engine.Host.Services.GetSandboxResult(sandboxId);
        Assert.Equal("Terminated", session);
    }

    [GeneratedRegex(@"^\d\d:\d\d:\d\d$")]
    private static partial Regex Timestamp();
}
