using System.Text.Json;

namespace TypedSandbox.Conformance.Tests;

/// <summary><c>verbose: true</c> on create: the sandbox's log (sb.logs, source "system") reports every exec and every
/// filesystem operation; without it, none.</summary>
[Collection(EngineTests.Name)]
public sealed class VerboseTests(EngineFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Verbose_sandboxes_log_execs_and_file_operations_and_quiet_ones_do_not()
    {
        var result = await fixture.RunAsync("verbose.mjs", "verbose-logs");
        output.WriteLine(result.GetRawText());

        var verbose = result.GetProperty("verbose");
        var expected = new[]
        {
            "exec started: echo 'hello verbose'",
            "exec finished: exit code 0",
            "exec started: sh -c 'exit 3'",
            "exec finished: exit code 3",
            "filesystem WriteFile: /tmp/verbose.txt",
            "filesystem WriteFile: /tmp/verbose.txt finished: ok",
            "filesystem ReadFile: /tmp/verbose.txt",
            "filesystem ReadFile: /tmp/verbose.txt finished: ok",
            "filesystem ListFiles: /tmp",
            "filesystem ListFiles: /tmp finished: ok",
            "filesystem ReadFile: /tmp/missing.txt",
            "filesystem ReadFile: /tmp/missing.txt finished: failed, exit code 1",
        };
        var tail = verbose.GetProperty("tail").EnumerateArray().ToList();
        Assert.All(tail, e => Assert.Equal("system", e.GetProperty("source").GetString()));
        Assert.Equal(expected, tail.Select(e => WithoutExecId(e.GetProperty("message").GetString()!)));
        Assert.Equal(expected, Lines(verbose, "system"));
        Assert.Equal(expected, Lines(verbose, "fetched"));
        Assert.Empty(Lines(verbose, "stdout"));
        Assert.Equal(
            ["filesystem ReadFile: /tmp/verbose.txt", "filesystem ReadFile: /tmp/verbose.txt finished: ok",
             "filesystem ReadFile: /tmp/missing.txt", "filesystem ReadFile: /tmp/missing.txt finished: failed, exit code 1"],
            Lines(verbose, "searched"));

        var quiet = result.GetProperty("quiet");
        foreach (var property in new[] { "tail", "system", "stdout", "fetched", "searched" })
        {
            Assert.Empty(quiet.GetProperty(property).EnumerateArray());
        }
    }

    private static List<string> Lines(JsonElement result, string property) =>
        [.. result.GetProperty(property).EnumerateArray().Select(e => WithoutExecId(e.GetString()!))];

    // "exec started: echo hi (exec <id>)\n" → "exec started: echo hi": the exec id is the client's random choice.
    private static string WithoutExecId(string line)
    {
        line = line.TrimEnd('\n');
        var id = line.LastIndexOf(" (exec ", StringComparison.Ordinal);
        return id >= 0 ? line[..id] : line;
    }
}
