using TypedSandbox.Agent.Protocol;
using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Exec;

/// <summary>
/// One process running in a sandbox (an exec or the entrypoint), owned by the engine: its output lands in journals
/// whatever the readers do, stdin is forwarded by offset, the timeout is enforced here, and its exit is recorded.
/// </summary>
internal sealed partial class SupervisedProcess : IAsyncDisposable
{
    private const int SigKill = 9;
    private readonly AgentChannel _channel;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<ProcessExit> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly SemaphoreSlim _stdinLock = new(1, 1);
    private readonly Lock _gate = new();
    private TimeSpan? _timeout;
    // Modal's SDKs start their own deadline for an exec when its start is acknowledged, and treat output that ends
    // after it as a failure. So the timeout runs from the request (before the spawn) and the process is stopped this
    // much early: it still runs "at most timeout", and its EOF reaches the client before the client's deadline.
    internal static readonly TimeSpan TimeoutLead = TimeSpan.FromMilliseconds(50);
    private readonly long _requestedAt = System.Diagnostics.Stopwatch.GetTimestamp();
    private long _stdinOffset;
    private bool _stdinClosed;
    private int _openStreams = 2;
    private (int? Code, int? Signal)? _exit;
    private bool _timedOut;
    private long _oomKillsAtStart;
    private bool _disposed;
    private ProcessExit? _final;
    private Action<ProcessExit>? _beforeCompletion;

    internal SupervisedProcess(AgentChannel channel, uint channelId, ProcessSpec spec)
    {
        _channel = channel;
        ChannelId = channelId;
        _timeout = spec.Timeout;
        Stdout = channel.CreateJournal(channelId, 1);
        Stderr = channel.CreateJournal(channelId, 2);
    }

    /// <summary>Unique id of this process within the engine.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The process's pid inside the sandbox's pid namespace (0 until started).</summary>
    public int Pid { get; private set; }

    /// <summary>Everything the process wrote to stdout.</summary>
    public ExecJournal Stdout { get; }

    /// <summary>Everything the process wrote to stderr.</summary>
    public ExecJournal Stderr { get; }

    /// <summary>
    /// Completes when the process has exited and both its output streams have closed (like <c>docker exec</c>, a
    /// background child that keeps stdout open keeps the exec running), or when the sandbox ended.
    /// </summary>
    public Task<ProcessExit> Completion => _completion.Task;

    /// <summary>
    /// Runs <paramref name="observer"/> when the process ends, before <see cref="Completion"/> completes, so whoever
    /// awaits Completion already sees what the observer did (a log line); at once when it has already ended.
    /// </summary>
    public void OnEnded(Action<ProcessExit> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        ProcessExit exit;
        lock (_gate)
        {
            if (_final is { } final)
            {
                exit = final;
            }
            else if (_completion.Task.IsCompleted)
            {
                exit = _completion.Task.Result;
            }
            else
            {
                _beforeCompletion += observer;
                return;
            }
        }
        observer(exit);
    }

    /// <summary>How many stdin bytes were forwarded to the process (the resume point of a client's stdin stream).</summary>
    public long StdinBytesWritten => Interlocked.Read(ref _stdinOffset);

    /// <summary>True once stdin was closed (EOF sent).</summary>
    public bool StdinClosed => Volatile.Read(ref _stdinClosed);

    internal uint ChannelId { get; }

    internal Task Started => _started.Task;

    /// <summary>
    /// Writes stdin bytes that start at stream offset <paramref name="offset"/>. Idempotent by offset: bytes already
    /// written are skipped, so a client may re-send after a reconnect. <paramref name="eof"/> closes stdin.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The offset is past the bytes written so far (a gap).</exception>
    public async ValueTask WriteStdinAsync(long offset, ReadOnlyMemory<byte> data, bool eof, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        await _stdinLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // The reader is gone; like a closed pipe, input goes nowhere. Checked first: the writes dropped before
            // this one did not advance the offset, so its offset may look like a gap.
            if (_completion.Task.IsCompleted)
            {
                return;
            }

            if (offset > _stdinOffset)
            {
                throw EngineException.Invalid($"stdin offset {offset} leaves a gap: {_stdinOffset} bytes were written so far");
            }

            var skip = (int)Math.Min(data.Length, _stdinOffset - offset);
            var fresh = data[skip..];
            if (!fresh.IsEmpty && _stdinClosed)
            {
                throw new InvalidOperationException("stdin was already closed");
            }

            while (!fresh.IsEmpty)
            {
                var chunk = fresh[..Math.Min(fresh.Length, Frames.MaxPayload)];
                await _channel.SendAsync(FrameType.Stdin, ChannelId, chunk, ct).ConfigureAwait(false);
                _stdinOffset += chunk.Length;
                fresh = fresh[chunk.Length..];
            }
            if (eof && !_stdinClosed)
            {
                await _channel.SendAsync(FrameType.StdinClose, ChannelId, ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
                _stdinClosed = true;
            }
        }
        finally
        {
            _stdinLock.Release();
        }
    }

    /// <summary>Kills the process and its process group (SIGKILL). No effect once it has exited.</summary>
    public Task KillAsync(CancellationToken ct) => SignalAsync(SigKill, ct);

    /// <summary>Sends <paramref name="signal"/> to the process's process group.</summary>
    public async Task SignalAsync(int signal, CancellationToken ct)
    {
        if (_completion.Task.IsCompleted)
        {
            return;
        }

        var payload = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(payload, signal);
        try
        {
            await _channel.SendAsync(FrameType.Signal, ChannelId, payload, ct).ConfigureAwait(false);
        }
        catch (SandboxEndedException)
        {
            // The sandbox is gone, and the process with it.
        }
    }

    /// <summary>Kills the process if it still runs and releases its journals.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_completion.Task.IsCompleted)
        {
            try { await KillAsync(CancellationToken.None).ConfigureAwait(false); }
            catch (IOException) { /* the channel broke: the sandbox is ending anyway */ }
        }
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }
        _channel.Forget(ChannelId);
        await _lifetime.CancelAsync().ConfigureAwait(false);
        _lifetime.Dispose();
        await Stdout.DisposeAsync().ConfigureAwait(false);
        await Stderr.DisposeAsync().ConfigureAwait(false);
        _stdinLock.Dispose();
    }

    /// <summary>
    /// Frees both output journals (their memory and spill files) and keeps the rest: the exit status still answers,
    /// a read of the output answers NOT_FOUND with the reason.
    /// </summary>
    internal async ValueTask FreeOutputAsync()
    {
        await Stdout.DisposeAsync().ConfigureAwait(false);
        await Stderr.DisposeAsync().ConfigureAwait(false);
    }

    internal void OnStarted(int pid)
    {
        Pid = pid;
        _oomKillsAtStart = _channel.ReadOomKillCount();
        lock (_gate)
        {
            if (!_disposed && _timeout is { } timeout)
            {
                _ = EnforceTimeoutAsync(timeout - TimeoutLead - System.Diagnostics.Stopwatch.GetElapsedTime(_requestedAt), _lifetime.Token);
            }
        }
        _started.TrySetResult();
    }

    internal void OnSpawnFailed(string message)
    {
        Stdout.Complete();
        Stderr.Complete();
        _started.TrySetException(new ExecStartException(message));
        _completion.TrySetResult(new ProcessExit(127, null, false));
    }

    internal void OnStreamClosed(int stream)
    {
        (stream == 1 ? Stdout : Stderr).CompleteAtSource();
        lock (_gate)
        {
            _openStreams--;
        }

        TryFinish();
    }

    internal void OnExited(int code, int signal)
    {
        lock (_gate)
        {
            _exit = (code >= 0 ? code : null, signal > 0 ? signal : null);
        }

        TryFinish();
    }

    /// <summary>The agent is gone (the sandbox ended): whatever was not reported ends as killed.</summary>
    internal void OnChannelClosed()
    {
        _started.TrySetException(new SandboxEndedException("the sandbox ended before the process started"));
        Stdout.Complete();
        Stderr.Complete();
        lock (_gate)
        {
            _exit ??= (null, SigKill);
            _openStreams = 0;
        }
        TryFinish();
    }

    private void TryFinish()
    {
        ProcessExit result;
        Action<ProcessExit>? observers;
        lock (_gate)
        {
            if (_disposed || _final is not null || _exit is not { } exit || _openStreams > 0)
            {
                return;
            }

            var oom = exit.Signal == SigKill && _channel.ReadOomKillCount() > _oomKillsAtStart;
            result = new ProcessExit(exit.Code, exit.Signal, _timedOut, oom);
            _final = result;
            observers = _beforeCompletion;
            _beforeCompletion = null;
        }
        observers?.Invoke(result);
        if (_completion.TrySetResult(result))
        {
            lock (_gate)
            {
                if (!_disposed)
                {
                    _lifetime.Cancel();
                }
            }
            _channel.Forget(ChannelId);
        }
    }

    private async Task EnforceTimeoutAsync(TimeSpan timeout, CancellationToken lifetime)
    {
        try
        {
            if (timeout > TimeSpan.Zero)
            {
                await Task.Delay(timeout, lifetime).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lock (_gate)
        {
            _timedOut = true;
        }
        // The output of a timed-out exec ends when its timeout fires: readers see EOF now, as the client's own
        // deadline (which starts when the exec is acknowledged) is only milliseconds away.
        Stdout.Complete();
        Stderr.Complete();
        await KillAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
