using TypedSandbox.Server.Engine;

using TypedSandbox.Agent.Protocol;

namespace TypedSandbox.Server.Exec;

/// <summary>
/// A TCP connection to a port on the sandbox's own loopback, opened by the agent inside the sandbox, so it works in
/// every network mode and under every runtime (tunnels build on it). What the port sends lands in
/// <see cref="Received"/>, a journal like an exec's stdout: never dropped, readable by offset, bounded memory.
/// </summary>
internal sealed class SandboxConnection : IAsyncDisposable
{
    private const int Disconnect = 9;
    private readonly AgentChannel _channel;
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private bool _sendClosed;

    internal SandboxConnection(AgentChannel channel, uint channelId, int port)
    {
        _channel = channel;
        ChannelId = channelId;
        Port = port;
        Received = channel.CreateJournal(channelId, 1);
    }

    /// <summary>The sandbox port.</summary>
    public int Port { get; }

    /// <summary>Everything the sandbox side sent; completes when it closed its side (or the sandbox ended).</summary>
    public ExecJournal Received { get; }

    internal uint ChannelId { get; }

    internal Task Connected => _connected.Task;

    /// <summary>Sends bytes to the sandbox port (in order; concurrent calls are serialized).</summary>
    /// <exception cref="InvalidOperationException">Sending was already completed.</exception>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_sendClosed)
            {
                throw new InvalidOperationException("Sending on this connection was already completed.");
            }

            while (!data.IsEmpty)
            {
                var chunk = data[..Math.Min(data.Length, Frames.MaxPayload)];
                await _channel.SendAsync(FrameType.Stdin, ChannelId, chunk, ct).ConfigureAwait(false);
                data = data[chunk.Length..];
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Half-closes: the sandbox side reads EOF; <see cref="Received"/> keeps filling until it closes too.</summary>
    public async ValueTask CompleteSendingAsync(CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_sendClosed)
            {
                return;
            }

            _sendClosed = true;
            await _channel.SendAsync(FrameType.StdinClose, ChannelId, ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Closes both directions and releases the received bytes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!Received.IsComplete)
        {
            var payload = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(payload, Disconnect);
            try { await _channel.SendAsync(FrameType.Signal, ChannelId, payload, CancellationToken.None).ConfigureAwait(false); }
            catch (SandboxEndedException) { /* the sandbox and the connection are gone already */ }
        }
        _channel.Forget(ChannelId);
        await Received.DisposeAsync().ConfigureAwait(false);
        _sendLock.Dispose();
    }

    internal void OnConnected() => _connected.TrySetResult();

    internal void OnFailed(string message)
    {
        Received.Complete();
        _connected.TrySetException(new SandboxConnectException(message));
    }

    internal void OnReceived(ReadOnlySpan<byte> data) => Received.Append(data);

    internal void OnReceiveClosed() => Received.CompleteAtSource();

    internal void OnChannelClosed()
    {
        _connected.TrySetException(new SandboxEndedException("the sandbox ended before the connection was made"));
        Received.Complete();
    }
}

/// <summary>Nothing accepted the connection inside the sandbox (no listener on that port, or it refused).</summary>
internal sealed class SandboxConnectException : EngineException
{
    /// <summary>Creates the exception.</summary>
    public SandboxConnectException() : base(EngineErrorKind.Unavailable, "Nothing in the sandbox accepted the connection.") { }

    /// <summary>Creates the exception with the agent's message.</summary>
    public SandboxConnectException(string message) : base(EngineErrorKind.Unavailable, message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public SandboxConnectException(string message, Exception inner) : base(EngineErrorKind.Unavailable, message, inner) { }
}
