namespace TypedSandbox.Server.Processes;

/// <summary>
/// The engine's one way to start host processes (the OCI runtime, network helpers, image tools, rm, cp...): an
/// argument list, never a shell string; bounded output, with one stderr tail logged on failure; a timeout and a
/// cancellation token that kill the process (its tree when asked) and reap it.
/// </summary>
internal static class HostProcesses
{
    /// <summary>
    /// Runs a process to its end: writes <see cref="HostProcessStart.Stdin"/>, keeps its bounded output, and returns
    /// how it ended. Past its <see cref="HostProcessStart.Timeout"/> it is killed and the result says
    /// <see cref="HostProcessResult.TimedOut"/>; cancelling kills it too, reaps it and throws.
    /// </summary>
    /// <exception cref="System.ComponentModel.Win32Exception">The executable could not be started.</exception>
    public static async Task<HostProcessResult> RunAsync(HostProcessStart start, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(start);
        var process = HostProcess.Launch(start, stdoutAsStream: false);
        await using (process.ConfigureAwait(false))
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (start.Timeout is { } timeout)
            {
                limit.CancelAfter(timeout);
            }

            var timedOut = false;
            try
            {
                if (start.Stdin is { } stdin)
                {
                    try
                    {
                        await process.StandardInput.WriteAsync(System.Text.Encoding.UTF8.GetBytes(stdin), limit.Token).ConfigureAwait(false);
                    }
                    catch (IOException)
                    {
                        // It ended before reading all of it: its exit tells how it went.
                    }
                }

                process.CloseStandardInput();
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
                await process.OutputClosed.WaitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                timedOut = true;
                await KillAndReapAsync(process).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await KillAndReapAsync(process).ConfigureAwait(false);
                throw;
            }

            var result = new HostProcessResult(process.ExitCode, process.CapturedStdout, process.Stderr.ToString(), timedOut);
            LogFailure(start, result);
            return result;
        }
    }

    /// <summary>
    /// As <see cref="RunAsync"/>, blocking: for the few callers that cannot await (the image store's start-up, its
    /// synchronous temp-path cleanup). No stdin.
    /// </summary>
    public static HostProcessResult Run(HostProcessStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        var process = HostProcess.Launch(start, stdoutAsStream: false);
        try
        {
            process.CloseStandardInput();
            var timedOut = !process.WaitForExit(start.Timeout);
            if (timedOut)
            {
                process.Kill();
                process.WaitForExit(null);
            }

            var result = new HostProcessResult(process.ExitCode, process.CapturedStdout, process.Stderr.ToString(), timedOut);
            LogFailure(start, result);
            return result;
        }
        finally
        {
            process.Release();
        }
    }

    /// <summary>
    /// Starts a long-lived process (a sandbox's runtime, its network helper) whose stdin and stdout (unless
    /// <paramref name="stdoutAsStream"/> is false: then kept as by a run) the caller uses as streams; its stderr is kept as a bounded tail (and passed to <see cref="HostProcessStart.OnLine"/>). The caller
    /// owns the handle and disposes it, which kills and reaps the process if it still runs.
    /// </summary>
    /// <exception cref="System.ComponentModel.Win32Exception">The executable could not be started.</exception>
    public static HostProcess Start(HostProcessStart start, bool stdoutAsStream = true)
    {
        ArgumentNullException.ThrowIfNull(start);
        return HostProcess.Launch(start, stdoutAsStream);
    }

    private static async Task KillAndReapAsync(HostProcess process)
    {
        process.Kill();
        await process.Exited.ConfigureAwait(false);
    }

    private static void LogFailure(HostProcessStart start, HostProcessResult result)
    {
        if (start.Logger is not { } logger || result.Succeeded)
        {
            return;
        }

        if (result.TimedOut)
        {
            ProcessLog.TimedOut(logger, start.ToString(), start.Timeout!.Value, result.Stderr);
        }
        else
        {
            ProcessLog.Failed(logger, start.ToString(), result.ExitCode, result.Stderr);
        }
    }
}
