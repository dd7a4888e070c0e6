using Google.Protobuf;
using Microsoft.Extensions.Logging;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Sandboxes;
using TypedSandbox.Telemetry;
using TypedSandbox.Transport;

namespace TypedSandbox;

/// <summary>
/// A process started in a sandbox with <see cref="Sandbox.ExecAsync"/>. Its output is kept on the server until read,
/// so reading late (or after the process exited) loses nothing. Disposing releases the open streams; the process
/// itself runs on until it exits or its timeout.
/// </summary>
public sealed class ContainerProcess : IAsyncDisposable
{
    private static readonly TimeSpan WaitAttemptTimeout = TimeSpan.FromSeconds(60);
    private static readonly RetryPolicy WaitRetry = new(int.MaxValue, TimeSpan.FromSeconds(1), 1, TimeSpan.FromSeconds(1));

    /// <summary>Extra time after the exec timeout before the client gives up waiting, so the server's own kill is seen.</summary>
    private static readonly TimeSpan DeadlineGrace = TimeSpan.FromSeconds(5);

    /// <summary>How far the server's timeout timer and the client's clock may disagree.</summary>
    private static readonly TimeSpan TimeoutClockTolerance = TimeSpan.FromMilliseconds(250);

    private readonly SandboxConnection _connection;
    private readonly string _taskId;
    private readonly TimeSpan? _timeout;
    private readonly DateTimeOffset _started;
    private readonly DateTimeOffset? _deadline;
    private readonly CancellationTokenSource _deadlineCts;
    private readonly ExecTelemetry _telemetry;
    private int? _exitCode;

    internal ContainerProcess(SandboxConnection connection, string taskId, string execId, ExecOptions options, DateTimeOffset started, ExecTelemetry telemetry)
    {
        _telemetry = telemetry;
        _connection = connection;
        _taskId = taskId;
        ExecId = execId;
        _timeout = options.Timeout;
        _started = started;
        if (_timeout is { } timeout)
        {
            _deadline = started + timeout + DeadlineGrace;
        }
        _deadlineCts = _timeout is { } limit ? new CancellationTokenSource(limit + DeadlineGrace, connection.Client.Time) : new CancellationTokenSource();
        var logger = connection.Client.LoggerFactory.CreateLogger("TypedSandbox.ContainerProcess");
        Stdout = options.Stdout == StdioMode.Pipe ? OpenOutput(TaskExecStdioFileDescriptor.Stdout, logger) : new SandboxOutputStream(null);
        Stderr = options.Stderr == StdioMode.Pipe ? OpenOutput(TaskExecStdioFileDescriptor.Stderr, logger) : new SandboxOutputStream(null);
        Stdin = new SandboxInputStream(new CountingByteSink(new ExecStdin(this), "stdin"));
    }

    /// <summary>The exec id.</summary>
    public string ExecId { get; }

    /// <summary>The process's stdout.</summary>
    public SandboxOutputStream Stdout { get; }

    /// <summary>The process's stderr.</summary>
    public SandboxOutputStream Stderr { get; }

    /// <summary>The process's stdin.</summary>
    public SandboxInputStream Stdin { get; }

    /// <summary>Waits for the process to exit and returns its exit code (128 + n when killed by signal n).</summary>
    /// <param name="cancellationToken">Stops waiting; the process keeps running.</param>
    /// <exception cref="ExecTimeoutException">The process ran past <see cref="ExecOptions.Timeout"/>.</exception>
    public async Task<int> WaitAsync(CancellationToken cancellationToken = default)
    {
        if (_exitCode is { } known)
        {
            return known;
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deadlineCts.Token);
        TaskExecWaitResponse response;
        try
        {
            response = await _connection.Router.CallAsync("TaskExecWait", static (c, r, o) => c.TaskExecWaitAsync(r, o),
                new TaskExecWaitRequest { TaskId = _taskId, ExecId = ExecId }, linked.Token, WaitAttemptTimeout, WaitRetry).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested && _deadlineCts.IsCancellationRequested)
        {
            var timedOut = TimedOut(e);
            _telemetry.Failed(timedOut);
            throw timedOut;
        }
        var code = ExitCodeOf(response.ExitStatusCase, response.Code, response.Signal)
            ?? throw new ProtocolException($"TaskExecWait for exec {ExecId} answered with no exit status.");
        return Finish(code, response.ExitStatusCase == TaskExecWaitResponse.ExitStatusOneofCase.Signal);
    }

    /// <summary>Returns the exit code if the process has exited, otherwise null.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<int?> PollAsync(CancellationToken cancellationToken = default)
    {
        if (_exitCode is { } known)
        {
            return known;
        }
        var response = await _connection.Router.CallAsync("TaskExecPoll", static (c, r, o) => c.TaskExecPollAsync(r, o),
            new TaskExecPollRequest { TaskId = _taskId, ExecId = ExecId }, cancellationToken).ConfigureAwait(false);
        return ExitCodeOf(response.ExitStatusCase switch
        {
            TaskExecPollResponse.ExitStatusOneofCase.Code => TaskExecWaitResponse.ExitStatusOneofCase.Code,
            TaskExecPollResponse.ExitStatusOneofCase.Signal => TaskExecWaitResponse.ExitStatusOneofCase.Signal,
            _ => TaskExecWaitResponse.ExitStatusOneofCase.None,
        }, response.Code, response.Signal) is { } code ? Finish(code, response.ExitStatusCase == TaskExecPollResponse.ExitStatusOneofCase.Signal) : null;
    }

    /// <summary>Reads stdout and stderr to the end and waits for the exit code.</summary>
    /// <param name="cancellationToken">Stops reading and waiting.</param>
    /// <exception cref="ExecTimeoutException">The process ran past <see cref="ExecOptions.Timeout"/>.</exception>
    public async Task<ExecResult> CollectAsync(CancellationToken cancellationToken = default)
    {
        var stdout = Stdout.ReadToEndAsync(cancellationToken);
        var stderr = Stderr.ReadToEndAsync(cancellationToken);
        var exit = WaitAsync(cancellationToken);
        await Task.WhenAll(stdout, stderr, exit).ConfigureAwait(false);
        return new ExecResult(await exit.ConfigureAwait(false), await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Releases the process's open output streams.</summary>
    public async ValueTask DisposeAsync()
    {
        await Stdout.DisposeAsync().ConfigureAwait(false);
        await Stderr.DisposeAsync().ConfigureAwait(false);
        _deadlineCts.Dispose();
        _telemetry.Abandoned();
    }

    /// <inheritdoc/>
    public override string ToString() => $"Exec {ExecId} in {_connection.SandboxId}";

    private int Finish(int code, bool bySignal)
    {
        // The server kills a process at its timeout; death by signal once the timeout has (about) passed is that kill.
        // The server's timer and this clock differ by a few milliseconds, hence the tolerance.
        if (_timeout is { } timeout && bySignal && _connection.Client.Time.GetUtcNow() - _started + TimeoutClockTolerance >= timeout)
        {
            var timedOut = TimedOut(null);
            _telemetry.Failed(timedOut);
            throw timedOut;
        }
        _exitCode = code;
        _telemetry.Exited(code);
        return code;
    }

    private ExecTimeoutException TimedOut(Exception? inner) =>
        new($"Exec {ExecId} ran past its timeout of {_timeout?.TotalSeconds:0.###} s and was stopped.", inner);

    internal static int? ExitCodeOf(TaskExecWaitResponse.ExitStatusOneofCase status, int code, int signal) => status switch
    {
        TaskExecWaitResponse.ExitStatusOneofCase.Code => code,
        TaskExecWaitResponse.ExitStatusOneofCase.Signal => 128 + signal,
        _ => null,
    };

    private SandboxOutputStream OpenOutput(TaskExecStdioFileDescriptor fd, ILogger logger)
    {
        var name = $"{(fd == TaskExecStdioFileDescriptor.Stderr ? "stderr" : "stdout")} of exec {ExecId}";
        var source = new ResumableByteSource(
            (position, ct) => ReadStdioAsync(fd, position.Offset, ct),
            null, RetryPolicy.CommandRouter, ct => _connection.Router.RenewAccessAsync(ct), endWhenStreamCompletes: true,
            name, _connection.Client.Time, logger);
        var counted = new CountingByteSource(source, fd == TaskExecStdioFileDescriptor.Stderr ? "stderr" : "stdout");
        return new SandboxOutputStream(new DeadlineByteSource(counted, this));
    }

    private async IAsyncEnumerable<StreamChunk> ReadStdioAsync(TaskExecStdioFileDescriptor fd, long offset,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new TaskExecStdioReadRequest { TaskId = _taskId, ExecId = ExecId, Offset = (ulong)offset, FileDescriptor = fd };
        await foreach (var message in _connection.Router.StreamAsync(static (c, r, o) => c.TaskExecStdioRead(r, o), request, cancellationToken).ConfigureAwait(false))
        {
            yield return new StreamChunk(message.Data.Memory);
        }
    }

    /// <summary>Ends reads at the exec's deadline with <see cref="ExecTimeoutException"/>.</summary>
    private sealed class DeadlineByteSource(IByteSource inner, ContainerProcess process) : IByteSource
    {
        public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken)
        {
            if (process._deadline is null)
            {
                return await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, process._deadlineCts.Token);
            try
            {
                return await inner.ReadAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested && process._deadlineCts.IsCancellationRequested)
            {
                throw new ExecTimeoutException($"Deadline exceeded while streaming stdio for exec {process.ExecId}", e);
            }
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>Exec stdin: offset-addressed writes, so a retried write is never applied twice.</summary>
    private sealed class ExecStdin(ContainerProcess process) : IByteSink
    {
        private ulong _offset;

        public async Task WriteAsync(ReadOnlyMemory<byte> data, bool endOfInput, CancellationToken cancellationToken)
        {
            var request = new TaskExecStdinWriteRequest
            {
                TaskId = process._taskId,
                ExecId = process.ExecId,
                Offset = _offset,
                Data = ByteString.CopyFrom(data.Span),
                Eof = endOfInput,
            };
            await process._connection.Router.CallAsync("TaskExecStdinWrite", static (c, r, o) => c.TaskExecStdinWriteAsync(r, o), request,
                cancellationToken).ConfigureAwait(false);
            _offset += (ulong)data.Length;
        }
    }
}
