using System.Diagnostics;
using System.Text;

namespace TypedSandbox.Bench.Harness;

/// <summary>What a finished command did, with the clock readings the benchmark needs.</summary>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Stdout">Everything it wrote to stdout.</param>
/// <param name="Stderr">Everything it wrote to stderr.</param>
/// <param name="FirstOutput">From just before the process was started to its first stdout bytes; null without output.</param>
/// <param name="Elapsed">From just before the process was started to its exit and the end of its output.</param>
internal sealed record CommandResult(int ExitCode, byte[] Stdout, string Stderr, TimeSpan? FirstOutput, TimeSpan Elapsed)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    /// <summary>Throws with the command's stderr unless it exited with 0.</summary>
    public CommandResult EnsureSuccess(string what) => ExitCode == 0
        ? this
        : throw new InvalidOperationException($"{what} exited with {ExitCode}: {Stderr.Trim()}");
}

/// <summary>Runs a program with pipes for its stdio, timing it from just before the start to its first output and its exit.</summary>
internal static class TimedCommand
{
    /// <summary>Runs the command to its end; stdout is kept, or handed chunk by chunk to <paramref name="onOutput"/> and dropped.</summary>
    public static async Task<CommandResult> RunAsync(
        string fileName, IEnumerable<string> args, TimeSpan timeout, CancellationToken cancellationToken, Action<ReadOnlyMemory<byte>>? onOutput = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        process.StandardInput.Close();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        // A read from a pipe does not observe cancellation on Linux: end it by killing the process, which closes its pipes.
        using var killOnCancel = limit.Token.Register(() => Kill(process));
        TimeSpan? firstOutput = null;
        using var stdout = new MemoryStream();
        var stderrTask = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await process.StandardOutput.BaseStream.ReadAsync(buffer, CancellationToken.None)) > 0)
        {
            firstOutput ??= Stopwatch.GetElapsedTime(started);
            if (onOutput is null)
            {
                stdout.Write(buffer, 0, read);
            }
            else
            {
                onOutput(buffer.AsMemory(0, read));
            }
        }

        await process.WaitForExitAsync(CancellationToken.None);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var stderr = await stderrTask;
        if (limit.IsCancellationRequested)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout.TotalSeconds:0} s.");
        }

        return new CommandResult(process.ExitCode, stdout.ToArray(), stderr, firstOutput, elapsed);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
    }
}
