using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Agent.Protocol;
using TypedSandbox.Server.Exec;

namespace TypedSandbox.Engine.Tests;

/// <summary>
/// The sandbox side of the agent protocol, in memory: the engine's real <see cref="AgentChannel"/> talks to it. Every
/// spawn starts at once and runs until the test ends it (or a signal kills it); every connect is accepted.
/// </summary>
internal sealed class FakeAgent : IAsyncDisposable
{
    private readonly Pipe _toAgent = new();
    private readonly Pipe _fromAgent = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, bool> _running = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;
    private FrameSeal? _seal;

    public FakeAgent()
    {
        Channel = new AgentChannel(_toAgent.Writer.AsStream(), _fromAgent.Reader.AsStream(), null, null, NullLogger.Instance);
        _loop = Task.Run(RunAsync);
        Channel.Start();
    }

    /// <summary>The engine's end.</summary>
    public AgentChannel Channel { get; }

    /// <summary>Completes when the engine opened a connection to a sandbox port.</summary>
    public Task Connected => _connected.Task;

    /// <summary>Ends a running process with <paramref name="code"/> (both output streams close first).</summary>
    public async Task ExitAsync(SupervisedProcess process, int code)
    {
        if (_running.TryRemove(process.ChannelId, out _))
        {
            await EndAsync(process.ChannelId, code, 0);
        }
    }

    private async Task RunAsync()
    {
        var input = _toAgent.Reader.AsStream();
        var output = _fromAgent.Writer;
        try
        {
            var key = new byte[FrameSeal.KeySize];
            await input.ReadExactlyAsync(key);
            _seal = new FrameSeal(key, isEngine: false);
            await SendAsync(FrameType.Ready, 0, BitConverter.GetBytes(Frames.Version));
            var header = new byte[Frames.HeaderSize];
            while (await input.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false) == header.Length)
            {
                var (type, id, length) = Frames.ReadHeader(header);
                var payload = new byte[length + FrameSeal.TagSize];
                await input.ReadExactlyAsync(payload);
                await HandleAsync(type, id, payload.AsMemory(0, length));
            }
        }
        catch (IOException)
        {
            // The engine closed its end.
        }
        finally
        {
            await output.CompleteAsync();
        }
    }

    private async Task HandleAsync(FrameType type, uint id, ReadOnlyMemory<byte> payload)
    {
        switch (type)
        {
            case FrameType.Spawn:
                _running[id] = true;
                await SendAsync(FrameType.Started, id, BitConverter.GetBytes((int)(100 + id)));
                break;
            case FrameType.Connect:
                await SendAsync(FrameType.Started, id, []);
                _connected.TrySetResult();
                break;
            case FrameType.Signal when _running.TryRemove(id, out _):
                await EndAsync(id, -1, BinaryPrimitives.ReadInt32LittleEndian(payload.Span));
                break;
        }
    }

    private async Task EndAsync(uint id, int code, int signal)
    {
        await SendAsync(FrameType.StreamClosed, id, [1]);
        await SendAsync(FrameType.StreamClosed, id, [2]);
        var exit = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(exit, code);
        BinaryPrimitives.WriteInt32LittleEndian(exit.AsSpan(4), signal);
        await SendAsync(FrameType.Exited, id, exit);
    }

    private async Task SendAsync(FrameType type, uint id, byte[] payload)
    {
        var frame = new byte[Frames.HeaderSize + payload.Length + FrameSeal.TagSize];
        Frames.WriteHeader(frame, type, id, payload.Length);
        payload.CopyTo(frame.AsSpan(Frames.HeaderSize));
        await _writeLock.WaitAsync();
        try
        {
            _seal!.Seal(frame.AsSpan(0, Frames.HeaderSize), payload, frame.AsSpan(Frames.HeaderSize + payload.Length));
            await _fromAgent.Writer.WriteAsync(frame);
        }
        catch (InvalidOperationException)
        {
            // The pipe was completed: the sandbox is gone.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Closes the engine's input to the agent and waits until both ends are done.</summary>
    public async ValueTask DisposeAsync()
    {
        await Channel.DisposeAsync();
        await _loop;
        _writeLock.Dispose();
    }
}
