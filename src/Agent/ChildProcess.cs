using System.Collections.Concurrent;
using TypedSandbox.Agent.Protocol;

namespace TypedSandbox.Agent;

/// <summary>One process the agent spawned for the engine (its pid, its stdin writer and its output pumps), or one TCP
/// connection it opened inside the sandbox (pid 0; "stdin" is the socket's sending side, "stdout" its receiving side).</summary>
internal sealed unsafe class ChildProcess(uint id, int pid, bool isMain, int stdinFd, long outputWindow, bool isSocket = false)
{
    // Stream 1 (stdout) and 2 (stderr): the engine's allowance for each.
    private readonly StreamCredit[] _credits = [new(outputWindow), new(outputWindow)];
    private const int ReadChunk = 64 * 1024;
    private const int PumpStackSize = 256 * 1024;
    private readonly List<Thread> _pumps = [];
    private BlockingCollection<byte[]?>? _stdinQueue;
    private int _stdinFd = stdinFd;

    public uint Id { get; } = id;
    public int Pid { get; } = pid;
    public bool IsMain { get; } = isMain;
    public bool IsSocket { get; } = isSocket;
    /// <summary>The process runs on a pseudo-terminal: its stdin and stdout are the terminal's controller.</summary>
    public bool IsTerminal => TerminalPath is not null;

    /// <summary>The terminal's path (<c>/dev/pts/N</c>) when the process runs on one; null for pipes.</summary>
    public string? TerminalPath { get; init; }

    // A terminal's output ends when its process is reaped (closing the write end wakes the pump): gVisor's terminals
    // never report EIO once the process side is closed, as Linux's do.
    private int _hangupRead = -1, _hangupWrite = -1;

    /// <summary>Lets <see cref="Hangup"/> end this terminal's output; without it (no descriptors left) only EIO ends it.</summary>
    public void WatchForHangup()
    {
        var fds = stackalloc int[2];
        if (Libc.pipe2(fds, Libc.O_CLOEXEC) == 0)
        {
            (_hangupRead, _hangupWrite) = (fds[0], fds[1]);
        }
    }

    /// <summary>The process was reaped: its terminal's output ends once nothing more is readable.</summary>
    public void Hangup()
    {
        lock (_pumps)
        {
            if (_hangupWrite >= 0)
            {
                Libc.close(_hangupWrite);
                _hangupWrite = -1;
            }
        }
    }
    /// <summary>Runs once every pump finished (connections use it to report their end).</summary>
    public Action? PumpsDone { get; set; }

    /// <summary>Runs once every pump finished, before <see cref="PumpsDone"/> (the process table stops routing credit).</summary>
    public Action? StreamsEnded { get; set; }

    /// <summary>The engine's new allowance for stream 1 (stdout) or 2 (stderr).</summary>
    public void Grant(byte stream, long limit)
    {
        if (stream is 1 or 2)
        {
            _credits[stream - 1].Raise(limit);
        }
    }
    private int _runningPumps;
    /// <summary>Set (under the process table lock) once waitpid returned this pid; its pid may be reused after.</summary>
    public bool Reaped { get; set; }

    /// <summary>Starts copying one output pipe into frames of <paramref name="type"/>.</summary>
    public void StartPump(int fd, FrameType type, byte streamNumber)
    {
        var thread = new Thread(() => Pump(fd, type, streamNumber), PumpStackSize) { IsBackground = true };
        try
        {
            Interlocked.Increment(ref _runningPumps);
            thread.Start();
            _pumps.Add(thread);
        }
        catch (OutOfMemoryException)
        {
            // No thread (the pids limit counts threads too): end the process rather than leave its output unread.
            Libc.close(fd);
            FrameChannel.Send(FrameType.StreamClosed, Id, [streamNumber]);
            if (Pid > 0)
            {
                Libc.kill(-Pid, Libc.SIGKILL);
            }

            PumpEnded();
        }
    }

    /// <summary>Waits until every output pipe reached EOF and was forwarded.</summary>
    public void JoinPumps()
    {
        foreach (var t in _pumps)
        {
            t.Join();
        }
    }

    /// <summary>Queues stdin bytes; null closes stdin after the queued bytes are written. Never blocks the caller.</summary>
    public void EnqueueStdin(byte[]? data)
    {
        lock (_pumps)
        {
            if (_stdinFd < 0)
            {
                return;
            }

            if (_stdinQueue is null)
            {
                if (data is null) { CloseStdin(); return; }
                _stdinQueue = [];
                try
                {
                    new Thread(WriteStdin, PumpStackSize) { IsBackground = true }.Start();
                }
                catch (OutOfMemoryException)
                {
                    // No thread for the writer (pids limit): stdin ends here, as if the pipe had closed.
                    _stdinQueue.CompleteAdding();
                    CloseStdin();
                    return;
                }
            }
            if (!_stdinQueue.IsAddingCompleted)
            {
                _stdinQueue.Add(data);
            }

            if (data is null)
            {
                _stdinQueue.CompleteAdding();
            }
        }
    }

    private void CloseStdin()
    {
        if (_stdinFd < 0)
        {
            return;
        }
        // A socket's peer only sees EOF on shutdown: the receiving side still holds the socket open.
        if (IsSocket)
        {
            Libc.shutdown(_stdinFd, Libc.SHUT_WR);
        }

        Libc.close(_stdinFd);
        _stdinFd = -1;
    }

    /// <summary>Connections: send what is queued then FIN, and stop receiving (the pump sees EOF and ends it).</summary>
    public void Disconnect()
    {
        EnqueueStdin(null);
        lock (_pumps)
        {
            if (_receiveFd >= 0)
            {
                Libc.shutdown(_receiveFd, Libc.SHUT_RD);
            }
        }
    }

    private int _receiveFd = -1;

    private void WriteStdin()
    {
        var fd = _stdinFd;
        var broken = false;
        foreach (var chunk in _stdinQueue!.GetConsumingEnumerable())
        {
            if (chunk is null || broken)
            {
                continue;
            }

            if (!IsTerminal)
            {
                broken = !WriteAll(fd, chunk);
                continue;
            }

            // Interrupt characters become signals here (see Terminal.SignalFor); the rest is typed into the terminal.
            var start = 0;
            for (var i = 0; i < chunk.Length && !broken; i++)
            {
                if (Terminal.SignalFor(fd, TerminalPath!, chunk[i]) is var signal && signal == 0)
                {
                    continue;
                }

                broken = !WriteAll(fd, chunk.AsSpan(start, i - start));
                Terminal.SignalForeground(fd, TerminalPath!, Pid, signal);
                start = i + 1;
            }

            broken = broken || !WriteAll(fd, chunk.AsSpan(start));
        }
        lock (_pumps)
        {
            CloseStdin();
        }
    }

    /// <summary>Writes all of <paramref name="data"/>; false when the reader is gone (EPIPE: drop the rest like a closed pipe would).</summary>
    private bool WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = Libc.write(fd, p + done, data.Length - done);
                if (n >= 0) { done += (int)n; continue; }
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == Libc.EINTR)
                {
                    continue;
                }

                if (errno == Libc.EAGAIN && IsSocket) { WaitUntilReady(fd, Libc.POLLOUT); continue; }
                return false;
            }
        }

        return true;
    }

    // On the host network stack (runsc --network=host, our open network) gVisor's Debian 2022 build can fail a blocked
    // socket read with EAGAIN once another thread writes to that socket: wait until it is ready and try again.
    private static void WaitUntilReady(int fd, short events)
    {
        Span<byte> pollFd = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(pollFd, fd);
        System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(pollFd[4..], events);
        fixed (byte* p = pollFd)
        {
            while (Libc.poll(p, 1, -1) < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EINTR)
            {
            }
        }
    }

    private void Pump(int fd, FrameType type, byte streamNumber)
    {
        if (IsSocket)
        {
            lock (_pumps)
            {
                _receiveFd = fd;
            }
        }

        var frame = new byte[Frames.HeaderSize + ReadChunk + FrameSeal.TagSize];
        var credit = _credits[streamNumber - 1];
        var hungUp = false;
        fixed (byte* p = frame)
        {
            while (true)
            {
                if (_hangupRead >= 0 && !Terminal.WaitForOutput(fd, _hangupRead, ref hungUp))
                {
                    break;
                }

                // Without credit the pipe is not read: the child blocks on write until the engine's reader catches up.
                var n = Libc.read(fd, p + Frames.HeaderSize, credit.WaitForRoom(ReadChunk));
                if (n > 0)
                {
                    credit.Sent(n);
                    FrameChannel.SendInPlace(frame, type, Id, (int)n);
                    continue;
                }
                if (n < 0)
                {
                    var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                    if (errno == Libc.EINTR)
                    {
                        continue;
                    }

                    if (errno == Libc.EAGAIN && IsSocket) { WaitUntilReady(fd, Libc.POLLIN); continue; }
                }
                break;
            }
        }
        lock (_pumps)
        {
            Libc.close(fd);
            if (_hangupRead >= 0)
            {
                Libc.close(_hangupRead);
                _hangupRead = -1;
            }

            if (IsSocket)
            {
                _receiveFd = -1;
            }
        }
        FrameChannel.Send(FrameType.StreamClosed, Id, [streamNumber]);
        PumpEnded();
    }

    private void PumpEnded()
    {
        if (Interlocked.Decrement(ref _runningPumps) != 0)
        {
            return;
        }

        StreamsEnded?.Invoke();
        PumpsDone?.Invoke();
    }
}
