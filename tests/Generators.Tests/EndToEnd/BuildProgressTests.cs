using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Testing;

namespace TypedSandbox.Generators.Tests.EndToEnd;

/// <summary>
/// The first <c>CreateAsync</c> of a class builds its image, and the build's progress (each step, then its output)
/// goes through the client's logger: a given factory, or the console when the client was given none.
/// </summary>
[Collection(DslEngineGroup.Name)]
public sealed class BuildProgressTests(DslEngineFixture fixture)
{
    [Fact]
    public async Task An_image_build_reports_each_step_then_its_output_through_the_clients_logger()
    {
        var logs = new CapturedLogs();
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = fixture.ConfigPath, LoggerFactory = loggerFactory });

        await using (await LoggedBuildBox.CreateAsync(client))
        {
        }

        var entries = logs.Entries;
        var step = FindIndex(entries, "Information TypedSandbox.Images: [build im-", "RUN echo logged-build-$((6*7))");
        var output = FindIndex(entries, "Information TypedSandbox.Images: [build im-", "] logged-build-42 [");
        Assert.True(step >= 0, "No step line in:\n" + logs.Text);
        Assert.True(output > step, "No output line after the step in:\n" + logs.Text);
    }

    [Fact]
    public async Task A_client_given_no_logger_shows_the_build_on_the_console_and_a_null_logger_silences_it()
    {
        var console = new StringWriter();
        var stderr = Console.Error;
        Console.SetError(TextWriter.Synchronized(console));
        try
        {
            await using (var client = new SandboxClient(new SandboxClientOptions { ConfigPath = fixture.ConfigPath }))
            await using (await ConsoleBuildBox.CreateAsync(client))
            {
            }

            var silentOptions = new SandboxClientOptions { ConfigPath = fixture.ConfigPath, LoggerFactory = NullLoggerFactory.Instance };
            await using (var client = new SandboxClient(silentOptions))
            await using (await SilentBuildBox.CreateAsync(client))
            {
            }
        }
        finally
        {
            Console.SetError(stderr);
        }

        var lines = console.ToString().Split('\n');
        Assert.Contains(lines, l => l.StartsWith("[TypedSandbox info] [build im-", StringComparison.Ordinal) && l.EndsWith("] console-build-48", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("[TypedSandbox info] [build im-", StringComparison.Ordinal) && l.Contains("RUN echo console-build-$((6*8))", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("silent-build", StringComparison.Ordinal));
    }

    private static int FindIndex(IReadOnlyList<string> entries, string prefix, string fragment)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].StartsWith(prefix, StringComparison.Ordinal) && entries[i].Contains(fragment, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

// Each class has an image of its own (a fresh engine has never built it), so its first CreateAsync builds; the shell
// computes the number, so the step line and the output line differ.
[Sandbox(App = "dsl-e2e", Timeout = "5m")]
[SandboxImage("busybox:latest", RunCommands = ["echo logged-build-$((6*7))"])]
internal partial class LoggedBuildBox
{
}

[Sandbox(App = "dsl-e2e", Timeout = "5m")]
[SandboxImage("busybox:latest", RunCommands = ["echo console-build-$((6*8))"])]
internal partial class ConsoleBuildBox
{
}

[Sandbox(App = "dsl-e2e", Timeout = "5m")]
[SandboxImage("busybox:latest", RunCommands = ["echo silent-build-$((6*9))"])]
internal partial class SilentBuildBox
{
}
