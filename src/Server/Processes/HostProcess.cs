using System.Diagnostics;
using System.Text;

namespace TypedSandbox.Server.Processes;

/// <summary>
/// A host process started by <see cref="HostProcesses"/>: its pipes, its bounded output, its exit. Disposing kills it
/// if it still runs (its tree when <see cref="HostProcessStart.KillTree"/>), reaps it and closes its pipes.
/// </summary>
internal sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder? _stdout;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _released;

    private HostProcess(Process process, HostProcessStart start, bool stdoutAsStream)
    {
        _process = process;
        Start = start;
        Stderr = new OutputTail(start.StderrLines);
        if (stdoutAsStream)
        {
            _stdoutClosed.SetResult();
        }
        else
        {
            _stdout = new StringBuilder();
        }
    }

    /// <summary>What it was started with.</summary>
    public HostProcessStart Start { get; }

    /// <summary>Its host pid.</summary>
    public int Id => _process.Id;

    /// <summary>The last lines of its stderr.</summary>
    public OutputTail Stderr { get; }

    /// <summary>Completes with its exit code once it exited and was reaped (not waiting for its output to end).</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>Completes when its captured stdout (if captured) and its stderr reached their end.</summary>
    public Task OutputClosed => Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task);

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Its exit code; only once <see cref="HasExited"/>.</summary>
    public int ExitCode => _exited.Task.IsCompleted ? _exited.Task.Result : throw new InvalidOperationException("The process has not exited.");

    /// <summary>Its stdin.</summary>
    public Stream StandardInput => _process.StandardInput.BaseStream;

    /// <summary>Its stdout, for a process started with its stdout as a stream.</summary>
    public Stream StandardOutput => _stdout is null ? _process.StandardOutput.BaseStream : throw new InvalidOperationException("Stdout is captured.");

    /// <summary>Its stdout as captured so far (at most <see cref="HostProcessStart.StdoutLimit"/> characters).</summary>
    public string CapturedStdout
    {
        get
        {
            if (_stdout is null)
            {
                return "";
            }

            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    internal static HostProcess Launch(HostProcessStart start, bool stdoutAsStream)
    {
        var info = new ProcessStartInfo(start.File)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in start.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in start.Environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var host = new HostProcess(process, start, stdoutAsStream);
        process.Exited += (_, _) => host._exited.TrySetResult(process.ExitCode);
        process.ErrorDataReceived += (_, e) => host.OnStderr(e.Data);
        if (!stdoutAsStream)
        {
            process.OutputDataReceived += (_, e) => host.OnStdout(e.Data);
        }

        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            if (start.Logger is { } logger)
            {
                ProcessLog.StartFailed(logger, start.ToString(), e.Message);
            }

            process.Dispose();
            throw;
        }

        process.BeginErrorReadLine();
        if (!stdoutAsStream)
        {
            process.BeginOutputReadLine();
        }

        return host;
    }

    /// <summary>Waits for its exit (not for the end of its output).</summary>
    public Task WaitForExitAsync(CancellationToken ct) => _exited.Task.WaitAsync(ct);

    /// <summary>Closes its stdin (a process that already ended is no error).</summary>
    public void CloseStandardInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // It exited (its end of the pipe is gone), or the caller that used the pipe as a stream closed it.
        }
    }

    /// <summary>Kills it (its tree when <see cref="HostProcessStart.KillTree"/>); one that already ended is no error.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(Start.KillTree);
        }
        catch (InvalidOperationException)
        {
            // already exited and reaped
        }
    }

    /// <summary>Blocks until it exited and its captured output ended, or <paramref name="timeout"/> passed (false).</summary>
    internal bool WaitForExit(TimeSpan? timeout)
    {
        if (!_process.WaitForExit(timeout ?? Timeout.InfiniteTimeSpan))
        {
            return false;
        }

        _process.WaitForExit();
        _exited.TrySetResult(_process.ExitCode);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (!HasExited)
        {
            Kill();
        }

        await _exited.Task.ConfigureAwait(false);
        Release();
    }

    /// <summary>Closes its pipes once it exited (Process.Dispose leaves streams a caller touched open).</summary>
    internal void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        CloseStandardInput();
        if (_stdout is null)
        {
            _process.StandardOutput.Dispose();
        }

        _process.Dispose();
    }

    private void OnStdout(string? line)
    {
        if (line is null)
        {
            _stdoutClosed.TrySetResult();
            return;
        }

        Start.OnLine?.Invoke(line);
        lock (_stdout!)
        {
            var room = Start.StdoutLimit - _stdout.Length;
            if (room > 0)
            {
                _stdout.Append(line.Length + 1 <= room ? line + "\n" : line[..Math.Min(line.Length, room)]);
            }
        }
    }

    private void OnStderr(string? line)
    {
        if (line is null)
        {
            _stderrClosed.TrySetResult();
            return;
        }

        Start.OnLine?.Invoke(line);
        Stderr.Add(line);
    }
}
