using System.Buffers.Binary;
using TypedSandbox.Agent.Protocol;

namespace TypedSandbox.Server.Exec;

/// <summary>
/// Handing a running sandbox to the next engine: this engine stops the channel at a frame boundary in both directions
/// (<see cref="HandOverAsync"/>), the agent keeps every process running and sends nothing, and the next engine reopens
/// the same pipes through <c>/proc/&lt;init&gt;/fd</c> and continues the seal's sequence numbers
/// (<see cref="AdoptProcess"/>, <see cref="ReattachAsync"/>). No frame is lost or replayed, so nothing needs resending.
/// </summary>
internal sealed partial class AgentChannel
{
    private readonly TaskCompletionSource _detached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _handingOver;
    private volatile bool _handedOver;

    /// <summary>
    /// Stops this engine's use of the channel for a handover: sends <see cref="FrameType.Detach"/> (the agent then
    /// waits up to <paramref name="grace"/> for the next engine), reads up to the agent's <see cref="FrameType.Detached"/>
    /// answer, and closes this end of the pipes without telling any process the sandbox ended. Returns this end's state.
    /// </summary>
    /// <exception cref="SandboxEndedException">The sandbox ended before the agent answered.</exception>
    public async Task<AgentChannelState> HandOverAsync(TimeSpan grace, CancellationToken ct)
    {
        // Never released: this engine sends nothing after the Detach frame.
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        _handingOver = true;
        var frame = new byte[Frames.HeaderSize + 4 + FrameSeal.TagSize];
        Frames.WriteHeader(frame, FrameType.Detach, 0, 4);
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(Frames.HeaderSize), (int)Math.Clamp(grace.TotalSeconds, 1, int.MaxValue));
        await WriteSealedAsync(frame, 4, ct).ConfigureAwait(false);
        await Task.WhenAny(_detached.Task, _readLoop).WaitAsync(ct).ConfigureAwait(false);
        if (!_detached.Task.IsCompleted)
        {
            throw new SandboxEndedException("The sandbox ended while it was being handed over.");
        }

        await _readLoop.ConfigureAwait(false);
        _closed = true;
        await _toAgent.DisposeAsync().ConfigureAwait(false);
        return Capture();
    }

    /// <summary>True once <see cref="HandOverAsync"/> stopped the channel: its processes were not told anything ended.</summary>
    public bool HandedOver => _handedOver;

    /// <summary>Puts a process of the engine before back under this (adopted, not yet started) channel.</summary>
    internal void AdoptProcess(SupervisedProcess process)
    {
        if (!process.Completion.IsCompleted)
        {
            _processes[process.ChannelId] = process;
        }
    }

    /// <summary>
    /// Tells the agent this engine took the channel over (after <see cref="Start"/>): its output flows again. Each
    /// adopted process's credit is sent again, as the engine before may have raised it without the agent hearing of it
    /// (a grant still waiting for the write lock when the channel was handed over).
    /// </summary>
    public async ValueTask ReattachAsync(CancellationToken ct)
    {
        await SendAsync(FrameType.Reattach, 0, ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
        foreach (var process in _processes.Values)
        {
            foreach (var (journal, stream) in new[] { (process.Stdout, (byte)1), (process.Stderr, (byte)2) })
            {
                if (!journal.IsComplete)
                {
                    await SendAsync(FrameType.Credit, process.ChannelId, new CreditGrant(stream, journal.Granted).Encode(), ct).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// Opens the agent's channel pipes held by host process <paramref name="holderPid"/> (crun: the agent itself, PID 1
    /// inside; runsc: the Sentry, which holds them for the agent): the pipe into the agent for writing and the one out
    /// of it for reading, as new descriptions of the same pipes. They are found among the holder's descriptors by their
    /// inode (<see cref="PipeIdentity"/>). Only the host's root can open them: the holder is not dumpable.
    /// </summary>
    /// <exception cref="IOException">The holder no longer holds one of the pipes.</exception>
    public static (Stream ToAgent, Stream FromAgent) OpenPipesOf(int holderPid, ChannelPipes pipes)
    {
        ArgumentNullException.ThrowIfNull(pipes);
        var toAgent = new FileStream(FindPipe(holderPid, pipes.ToAgent), FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        try
        {
            var fromAgent = new FileStream(FindPipe(holderPid, pipes.FromAgent), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            return (toAgent, fromAgent);
        }
        catch
        {
            toAgent.Dispose();
            throw;
        }
    }

    /// <summary>The inode of the pipe behind <paramref name="stream"/> (a runtime process's redirected stdin or stdout); null when it is not one.</summary>
    public static ulong? PipeIdentity(Stream stream) =>
        stream is System.IO.Pipes.PipeStream pipe && PipeInode($"/proc/self/fd/{pipe.SafePipeHandle.DangerousGetHandle()}") is { } inode ? inode : null;

    private static string FindPipe(int holderPid, ulong inode)
    {
        foreach (var descriptor in Directory.EnumerateFileSystemEntries($"/proc/{holderPid}/fd"))
        {
            if (PipeInode(descriptor) == inode)
            {
                return descriptor;
            }
        }

        throw new IOException($"Process {holderPid} no longer holds the agent's pipe {inode}.");
    }

    // "/proc/<pid>/fd/<n>" of a pipe links to "pipe:[<inode>]".
    private static ulong? PipeInode(string descriptor)
    {
        try
        {
            var target = new FileInfo(descriptor).LinkTarget;
            return target is not null && target.StartsWith("pipe:[", StringComparison.Ordinal) && target.EndsWith(']')
                && ulong.TryParse(target.AsSpan(6, target.Length - 7), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var inode)
                ? inode : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The read loop saw the agent's <see cref="FrameType.Detached"/>: true ends the loop without closing the sandbox.</summary>
    private bool OnDetached()
    {
        if (!_handingOver)
        {
            return false;
        }

        _handedOver = true;
        _detached.TrySetResult();
        return true;
    }
}

/// <summary>The pipes of an agent's channel, by inode: the one into the agent (its stdin) and the one out of it (its stdout).</summary>
internal sealed record ChannelPipes(ulong ToAgent, ulong FromAgent);
