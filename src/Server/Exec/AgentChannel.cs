using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using TypedSandbox.Agent.Protocol;
using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Exec;

/// <summary>
/// The engine's end of the in-sandbox agent's protocol: frames go to the agent's stdin and come back on its stdout
/// (pipes the OCI runtime hands to the sandbox's PID 1). One reader loop demultiplexes output into journals; it never
/// waits on a reader, so one slow client cannot stall another exec.
/// </summary>
internal sealed partial class AgentChannel : IAsyncDisposable
{
    private readonly Stream _toAgent;
    private readonly Stream _fromAgent;
    private readonly string? _spillDirectory;
    private readonly OutputBounds _bounds;
    private readonly SpillBudget? _spillBudget;
    private readonly Func<long> _oomKillCount;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, SupervisedProcess> _processes = new();
    private readonly ConcurrentDictionary<uint, SandboxConnection> _connections = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(FrameSeal.KeySize);
    private readonly FrameSeal _seal;
    private Task _readLoop = Task.CompletedTask;
    private int _nextId;
    private volatile bool _closed;

    public AgentChannel(Stream toAgent, Stream fromAgent, string? spillDirectory, Func<long>? oomKillCount, ILogger logger,
        OutputBounds? bounds = null, SpillBudget? spillBudget = null)
    {
        _toAgent = toAgent;
        _fromAgent = fromAgent;
        _spillDirectory = spillDirectory;
        _bounds = bounds ?? OutputBounds.Default;
        _spillBudget = spillBudget;
        _oomKillCount = oomKillCount ?? (() => 0);
        _logger = logger;
        _seal = new FrameSeal(_key, isEngine: true);
    }

    /// <summary>Completes when the agent said it is ready; fails if the channel closed first.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Completes when the agent's output ended (the sandbox's PID 1 exited) or the protocol broke.</summary>
    public Task Closed => _readLoop;

    /// <summary>Text that arrived where frames were expected (a runtime's error message), if any.</summary>
    public string? UnexpectedOutput { get; private set; }

    /// <summary>Hands the agent its frame key (the first bytes on its stdin, before it runs anything) and starts reading.</summary>
    public void Start()
    {
        try
        {
            // A resumed channel's agent has had its key since before its memory snapshot.
            if (!_resumed)
            {
                _toAgent.Write(_key);
                _toAgent.Flush();
            }
        }
        catch (IOException)
        {
            // The runtime failed before its init read anything: the read loop reports why.
        }
        Array.Clear(_key);
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>Starts a process through the agent; returns once it runs.</summary>
    /// <exception cref="ExecStartException">The agent could not start it.</exception>
    /// <exception cref="SandboxEndedException">The sandbox is gone.</exception>
    public async Task<SupervisedProcess> SpawnAsync(ProcessSpec spec, IReadOnlyList<string> env, string? workdir, bool isMain, CancellationToken ct)
    {
        var id = (uint)Interlocked.Increment(ref _nextId);
        var process = new SupervisedProcess(this, id, spec);
        var request = new SpawnRequest(spec.Args, env, workdir, isMain, spec.DiscardStdout, spec.DiscardStderr, process.Stdout.InitialWindow,
            spec.Terminal?.Size).Encode();
        if (request.Length > Frames.MaxPayload)
        {
            throw EngineException.Invalid($"The command line and environment take {request.Length} bytes; at most {Frames.MaxPayload} are allowed.");
        }

        _processes[id] = process;
        if (_closed)
        {
            process.OnChannelClosed();
        }

        try
        {
            await SendAsync(FrameType.Spawn, id, request, ct).ConfigureAwait(false);
            await process.Started.WaitAsync(ct).ConfigureAwait(false);
            return process;
        }
        catch
        {
            // Cancelled or failed: a spawn still in flight is killed when it starts, and the journals are released.
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens a TCP connection to 127.0.0.1:<paramref name="port"/> inside the sandbox through the agent.</summary>
    /// <exception cref="SandboxConnectException">Nothing accepted the connection.</exception>
    /// <exception cref="SandboxEndedException">The sandbox is gone.</exception>
    public async Task<SandboxConnection> ConnectAsync(int port, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var id = (uint)Interlocked.Increment(ref _nextId);
        var connection = new SandboxConnection(this, id, port);
        _connections[id] = connection;
        if (_closed)
        {
            connection.OnChannelClosed();
        }

        var payload = new ConnectRequest(port, connection.Received.InitialWindow).Encode();
        try
        {
            await SendAsync(FrameType.Connect, id, payload, ct).ConfigureAwait(false);
            await connection.Connected.WaitAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch (Exception)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Writes one frame; frames from concurrent callers never interleave.</summary>
    public async ValueTask SendAsync(FrameType type, uint id, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        if (_closed)
        {
            throw new SandboxEndedException();
        }

        var size = Frames.HeaderSize + payload.Length + FrameSeal.TagSize;
        var frame = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            Frames.WriteHeader(frame, type, id, payload.Length);
            payload.Span.CopyTo(frame.AsSpan(Frames.HeaderSize));
            await _writeLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await WriteSealedAsync(frame, payload.Length, ct).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    // Callers hold the write lock: the tag's sequence number is the order frames reach the agent.
    private async ValueTask WriteSealedAsync(byte[] frame, int payloadLength, CancellationToken ct)
    {
        var size = Frames.HeaderSize + payloadLength + FrameSeal.TagSize;
        try
        {
            _seal.Seal(frame.AsSpan(0, Frames.HeaderSize), frame.AsSpan(Frames.HeaderSize, payloadLength), frame.AsSpan(size - FrameSeal.TagSize));
            await _toAgent.WriteAsync(frame.AsMemory(0, size), ct).ConfigureAwait(false);
            await _toAgent.FlushAsync(ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new SandboxEndedException("The sandbox's agent is gone.", e);
        }
    }

    internal long ReadOomKillCount() => _oomKillCount();

    /// <summary>A journal for one output stream of process or connection <paramref name="id"/>, granting the agent
    /// credit as it drains.</summary>
    internal ExecJournal CreateJournal(uint id, byte stream) =>
        new(_spillDirectory, _bounds, _spillBudget, limit => GrantCredit(id, stream, limit));

    private void GrantCredit(uint id, byte stream, long limit)
    {
        if (_closed)
        {
            return;
        }

        _ = SendCreditAsync();

        async Task SendCreditAsync()
        {
            try
            {
                await SendAsync(FrameType.Credit, id, new CreditGrant(stream, limit).Encode(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SandboxEndedException or ObjectDisposedException or IOException)
            {
                // The sandbox ended: nothing is left to pump.
            }
        }
    }

    internal void Forget(uint id)
    {
        _processes.TryRemove(id, out _);
        _connections.TryRemove(id, out _);
    }

    /// <summary>Closes the agent's stdin: the agent then ends the sandbox.</summary>
    public async ValueTask CloseInputAsync()
    {
        _closed = true;
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _toAgent.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // already broken
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Closes the agent's stdin and waits until its output ended.</summary>
    public async ValueTask DisposeAsync()
    {
        await CloseInputAsync().ConfigureAwait(false);
        await _readLoop.ConfigureAwait(false);
    }

    private async Task ReadLoopAsync()
    {
        var input = new AgentFrameReader(_fromAgent);
        try
        {
            while (await input.ReadAsync(CancellationToken.None).ConfigureAwait(false) is { } frame)
            {
                if (frame.Length < 0)
                {
                    // Not a frame: most likely the OCI runtime printed an error on the stdout the agent would own.
                    UnexpectedOutput = await input.ReadUnexpectedTextAsync(CancellationToken.None).ConfigureAwait(false);
                    throw new InvalidDataException($"agent sent a frame of {Frames.ReadHeader(input.Header(frame)).Length} bytes");
                }

                // Sandbox code that reached the agent's stdout (gVisor's /proc/1/fd/1) can write bytes but not seal
                // them: a forged, replayed or torn frame ends the sandbox instead of being believed.
                if (!_seal.Verify(input.Header(frame), input.Payload(frame), input.Tag(frame)))
                {
                    // Closing its stdin makes the agent end the sandbox.
                    await CloseInputAsync().ConfigureAwait(false);
                    throw new InvalidDataException($"a frame from the agent failed its seal check (type {frame.Type}, id {frame.Id}): the sandbox wrote into its channel");
                }
                if (frame.Type == FrameType.Detached && OnDetached())
                {
                    // Handed over: the agent sends nothing more until the next engine reattaches.
                    break;
                }

                Dispatch(frame.Type, frame.Id, input.Payload(frame));
            }
        }
        catch (Exception e)
        {
            // Whatever broke the protocol, the channel must end cleanly: every waiter learns the sandbox is gone.
            ExecLog.ChannelBroke(_logger, e);
        }
        finally
        {
            _closed = true;
            // Process.Dispose does not close a stream its owner took (the runtime's stdout): close it here.
            await _fromAgent.DisposeAsync().ConfigureAwait(false);
            _ready.TrySetException(new SandboxEndedException("The sandbox ended before its agent was ready."));
            // A handover leaves the processes running for the next engine: none of them ended.
            foreach (var process in _handedOver ? Enumerable.Empty<SupervisedProcess>() : _processes.Values)
            {
                process.OnChannelClosed();
            }

            foreach (var connection in _connections.Values)
            {
                connection.OnChannelClosed();
            }
        }
    }

    private void Dispatch(FrameType type, uint id, ReadOnlySpan<byte> payload)
    {
        if (type == FrameType.Ready)
        {
            _ready.TrySetResult();
            return;
        }
        if (_connections.TryGetValue(id, out var connection))
        {
            DispatchConnection(connection, type, payload);
            return;
        }
        if (!_processes.TryGetValue(id, out var process))
        {
            AnswerProbe(type, id);
            return;
        }

        switch (type)
        {
            case FrameType.Started:
                process.OnStarted(BinaryPrimitives.ReadInt32LittleEndian(payload));
                break;
            case FrameType.SpawnFailed:
                Forget(id);
                process.OnSpawnFailed(Encoding.UTF8.GetString(payload));
                break;
            case FrameType.Stdout:
                process.Stdout.Append(payload);
                break;
            case FrameType.Stderr:
                process.Stderr.Append(payload);
                break;
            case FrameType.StreamClosed:
                process.OnStreamClosed(payload[0]);
                break;
            case FrameType.Exited:
                process.OnExited(BinaryPrimitives.ReadInt32LittleEndian(payload), BinaryPrimitives.ReadInt32LittleEndian(payload[4..]));
                break;
        }
    }

    private void DispatchConnection(SandboxConnection connection, FrameType type, ReadOnlySpan<byte> payload)
    {
        switch (type)
        {
            case FrameType.Started:
                connection.OnConnected();
                break;
            case FrameType.SpawnFailed:
                Forget(connection.ChannelId);
                connection.OnFailed(Encoding.UTF8.GetString(payload));
                break;
            case FrameType.Stdout:
                connection.OnReceived(payload);
                break;
            case FrameType.StreamClosed when payload[0] == 1:
                connection.OnReceiveClosed();
                break;
            case FrameType.Exited:
                Forget(connection.ChannelId);
                break;
        }
    }
}
