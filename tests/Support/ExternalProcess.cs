using System.Diagnostics;
using System.Text;

namespace TypedSandbox.Testing;

/// <summary>A line a child process wrote, with when it arrived.</summary>
internal readonly record struct TimedLine(string Text, DateTimeOffset ArrivedAt);

/// <summary>The outcome of a finished child process.</summary>
internal sealed record ProcessOutcome(int ExitCode, IReadOnlyList<TimedLine> StdoutLines, string Stderr)
{
    public string Stdout => string.Join('\n', StdoutLines.Select(l => l.Text));
}

/// <summary>Runs helper programs (node, scripts) for tests, with a bounded wait and cleanup of the process tree.</summary>
internal static class ExternalProcess
{
    public static async Task<ProcessOutcome> RunAsync(
        string fileName, IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        process.StandardInput.Close();
        var lines = new List<TimedLine>();
        var stderr = new StringBuilder();
        var stdoutTask = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (lines)
                {
                    lines.Add(new TimedLine(line, DateTimeOffset.UtcNow));
                }
            }
        });
        var stderrTask = Task.Run(async () => stderr.Append(await process.StandardError.ReadToEndAsync().ConfigureAwait(false)));
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
            await Task.WhenAll(stdoutTask, stderrTask).ConfigureAwait(false);
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}. stdout:\n{string.Join('\n', lines.Select(l => l.Text))}\nstderr:\n{stderr}");
        }

        await Task.WhenAll(stdoutTask, stderrTask).ConfigureAwait(false);
        return new ProcessOutcome(process.ExitCode, lines, stderr.ToString());
    }
}
