using System.Buffers;
using TypedSandbox.Agent.Protocol;

namespace TypedSandbox.Server.Exec;

/// <summary>What the engine must know to talk again to an agent restored from a memory snapshot.</summary>
/// <param name="Seal">The engine end's frame key and sequence numbers when the snapshot was taken.</param>
/// <param name="NextId">The last process id the engine used: the restored agent still knows every id up to it.</param>
internal sealed record AgentChannelState(FrameSealState Seal, int NextId);

/// <summary>
/// Memory snapshots: a channel stopped so that the agent has read every frame sent (<see cref="QuiesceAsync"/>), and a
/// channel resumed with the stopped one's key and sequence numbers after the sandbox is restored.
/// </summary>
internal sealed partial class AgentChannel
{
    private readonly bool _resumed;
    private volatile Probe? _probe;

    /// <summary>A channel to an agent restored from a memory snapshot; it is ready at once (the agent said so long ago).</summary>
    public AgentChannel(AgentChannelState state, Stream toAgent, Stream fromAgent, string? spillDirectory, Func<long>? oomKillCount, ILogger logger,
        OutputBounds? bounds = null, SpillBudget? spillBudget = null)
        : this(toAgent, fromAgent, spillDirectory, oomKillCount, logger, bounds, spillBudget)
    {
        ArgumentNullException.ThrowIfNull(state);
        _seal = new FrameSeal(state.Seal, isEngine: true);
        _nextId = state.NextId;
        _resumed = true;
        _ready.TrySetResult();
    }

    /// <summary>
    /// Stops sending and makes sure the agent has read every frame sent before: a spawn request too short to decode is answered
    /// by the agent's own read loop, so its answer proves the frames before it were taken off the pipe (a frame still in
    /// the host pipe would be lost by a checkpoint). Disposing the result lets frames flow again.
    /// </summary>
    public async Task<IAsyncDisposable> QuiesceAsync(CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        var id = (uint)Interlocked.Increment(ref _nextId);
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probe = new Probe(id, answered);
        var frame = ArrayPool<byte>.Shared.Rent(Frames.HeaderSize + 1 + FrameSeal.TagSize);
        try
        {
            // One byte of flags and no window: the agent's decoder refuses it at once.
            Frames.WriteHeader(frame, FrameType.Spawn, id, 1);
            frame[Frames.HeaderSize] = 0;
            await WriteSealedAsync(frame, 1, ct).ConfigureAwait(false);
            await Task.WhenAny(answered.Task, Closed).WaitAsync(ct).ConfigureAwait(false);
            if (!answered.Task.IsCompleted)
            {
                throw new SandboxEndedException();
            }

            return new WriteGate(_writeLock);
        }
        catch
        {
            _writeLock.Release();
            throw;
        }
        finally
        {
            _probe = null;
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private void AnswerProbe(FrameType type, uint id)
    {
        if (type == FrameType.SpawnFailed && _probe is { } probe && probe.Id == id)
        {
            probe.Answered.TrySetResult();
        }
    }

    /// <summary>This end's state, to resume the channel with a restored agent; exact once <see cref="Closed"/> completed.</summary>
    public AgentChannelState Capture() => new(_seal.Capture(), Volatile.Read(ref _nextId));

    private sealed record Probe(uint Id, TaskCompletionSource Answered);

    private sealed class WriteGate(SemaphoreSlim writeLock) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                writeLock.Release();
            }

            return ValueTask.CompletedTask;
        }
    }
}
