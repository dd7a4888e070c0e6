using System.Buffers.Binary;
using System.Runtime.InteropServices;
using TypedSandbox.Agent.Protocol;

namespace TypedSandbox.Agent;

/// <summary>The processes the engine asked for, by protocol id and by pid, and the reaper that waits for all of
/// them and for every orphan reparented to the agent (it is the sandbox's PID 1).</summary>
internal static unsafe class ProcessTable
{
    private static readonly object Gate = new();
    private static readonly Dictionary<uint, ChildProcess> ById = [];
    private static readonly Dictionary<int, ChildProcess> ByPid = [];
    // Processes and connections whose output is still pumped (a reaped process can still have output to send).
    private static readonly Dictionary<uint, ChildProcess> Streaming = [];
    private static bool _spawnedSinceIdle;
    private const byte EndOfTransmission = 0x04;

    public static void Spawn(uint id, SpawnRequest request)
    {
        Spawner.Pipes pipes;
        try { pipes = Spawner.CreatePipes(request); }
        catch (IOException e) { FrameChannel.Send(FrameType.SpawnFailed, id, System.Text.Encoding.UTF8.GetBytes(e.Message)); return; }

        lock (Gate)
        {
            // Spawn under the lock so the reaper cannot look a pid up before it is registered.
            int pid;
            string? error;
            try { (pid, error) = Spawner.Spawn(request, pipes); }
            catch (IOException e) { (pid, error) = (0, e.Message); }
            Spawner.CloseChildEnds(pipes);
            if (error is not null)
            {
                Spawner.CloseParentEnds(pipes);
                FrameChannel.Send(FrameType.SpawnFailed, id, System.Text.Encoding.UTF8.GetBytes(error));
                return;
            }
            var child = new ChildProcess(id, pid, request.IsMain, pipes.StdinParent, request.OutputWindow) { TerminalPath = pipes.TerminalPath };
            ById[id] = child;
            ByPid[pid] = child;
            Track(child);
            Span<byte> payload = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(payload, pid);
            FrameChannel.Send(FrameType.Started, id, payload);
            if (child.IsTerminal)
            {
                child.WatchForHangup();
            }

            // Pumps start under the lock: the reaper (which may end the sandbox and join them) sees them all.
            if (pipes.StdoutParent >= 0)
            {
                child.StartPump(pipes.StdoutParent, FrameType.Stdout, 1);
            }
            else
            {
                FrameChannel.Send(FrameType.StreamClosed, id, [1]);
            }

            if (pipes.StderrParent >= 0)
            {
                child.StartPump(pipes.StderrParent, FrameType.Stderr, 2);
            }
            else
            {
                FrameChannel.Send(FrameType.StreamClosed, id, [2]);
            }

            _spawnedSinceIdle = true;
            Monitor.Pulse(Gate);
        }
    }

    /// <summary>Routes credit to a process or connection until its output pumps end.</summary>
    private static void Track(ChildProcess child)
    {
        Streaming[child.Id] = child;
        child.StreamsEnded = () =>
        {
            lock (Gate)
            {
                Streaming.Remove(child.Id);
            }
        };
    }

    /// <summary>More output credit from the engine (ignored once the stream ended).</summary>
    public static void Credit(uint id, CreditGrant grant)
    {
        ChildProcess? child;
        lock (Gate)
        {
            Streaming.TryGetValue(id, out child);
        }

        child?.Grant(grant.Stream, grant.Limit);
    }

    public static void Stdin(uint id, byte[]? data)
    {
        ChildProcess? child;
        lock (Gate)
        {
            ById.TryGetValue(id, out child);
        }

        if (data is null && child is { IsTerminal: true })
        {
            // A terminal's reader sees end of input as the line discipline's EOF character (Ctrl-D), not a closed descriptor.
            child.EnqueueStdin([EndOfTransmission]);
        }

        child?.EnqueueStdin(data);
    }

    /// <summary>Opens a TCP connection to 127.0.0.1 on the requested port in the sandbox's network namespace.</summary>
    public static void Connect(uint id, ConnectRequest request)
    {
        var port = request.Port;
        // connect() can wait (a full accept backlog): never on the frame-reading thread.
        var thread = new Thread(() => ConnectCore(id, port, request.OutputWindow), 256 * 1024) { IsBackground = true };
        try { thread.Start(); }
        catch (OutOfMemoryException) { FrameChannel.Send(FrameType.SpawnFailed, id, "no thread left for the connection (pids limit)"u8); }
    }

    private static void ConnectCore(uint id, int port, long outputWindow)
    {
        var fd = Libc.socket(Libc.AF_INET, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) { Fail(Marshal.GetLastPInvokeError()); return; }
        Span<byte> address = stackalloc byte[16];
        address.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(address, Libc.AF_INET);
        BinaryPrimitives.WriteUInt16BigEndian(address[2..], (ushort)port);
        BinaryPrimitives.WriteUInt32BigEndian(address[4..], 0x7f000001);
        int rc;
        fixed (byte* p = address)
        {
            rc = Libc.connect(fd, p, address.Length);
        }

        var receiveFd = rc == 0 ? Libc.fcntl(fd, Libc.F_DUPFD_CLOEXEC, 3) : -1;
        if (receiveFd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Libc.close(fd);
            Fail(errno);
            return;
        }
        lock (Gate)
        {
            var connection = new ChildProcess(id, 0, false, fd, outputWindow, isSocket: true);
            ById[id] = connection;
            Track(connection);
            connection.PumpsDone = () =>
            {
                lock (Gate)
                {
                    ById.Remove(id);
                }

                connection.EnqueueStdin(null);
                SendExited(id, 0, 0);
            };
            Span<byte> payload = stackalloc byte[4];
            FrameChannel.Send(FrameType.Started, id, payload);
            connection.StartPump(receiveFd, FrameType.Stdout, 1);
            FrameChannel.Send(FrameType.StreamClosed, id, [2]);
        }

        void Fail(int errno) => FrameChannel.Send(FrameType.SpawnFailed, id,
            System.Text.Encoding.UTF8.GetBytes($"connect to 127.0.0.1:{port} in the sandbox: {Libc.ErrorText(errno)}"));
    }

    public static void Signal(uint id, int signal)
    {
        lock (Gate)
        {
            if (!ById.TryGetValue(id, out var child))
            {
                return;
            }

            if (child.IsSocket)
            {
                child.Disconnect();
                return;
            }
            // Only while not reaped: after that the pid may belong to another process.
            if (child.Reaped)
            {
                return;
            }

            if (Libc.kill(-child.Pid, signal) != 0)
            {
                Libc.kill(child.Pid, signal);
            }
        }
    }

    /// <summary>Reaps every child of PID 1 forever; reports the ones the engine started.</summary>
    public static void Reap()
    {
        while (true)
        {
            int status;
            var pid = Libc.waitpid(-1, &status, 0);
            if (pid < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.ECHILD)
                {
                    WaitForChildren();
                }

                continue;
            }
            ChildProcess? child;
            lock (Gate)
            {
                if (!ByPid.Remove(pid, out child))
                {
                    continue; // an orphan: reaping it is all PID 1 owes it
                }

                child.Reaped = true;
                ById.Remove(child.Id);
            }
            var signal = (status & 0x7f) != 0 ? status & 0x7f : 0;
            var code = signal == 0 ? (status >> 8) & 0xff : -1;
            child.EnqueueStdin(null);
            child.Hangup();
            if (child.IsMain)
            {
                EndSandbox(child, code, signal);
            }

            SendExited(child.Id, code, signal);
        }
    }

    private static void SendExited(uint id, int code, int signal)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(payload, code);
        BinaryPrimitives.WriteInt32LittleEndian(payload[4..], signal);
        FrameChannel.Send(FrameType.Exited, id, payload);
    }

    /// <summary>The entrypoint ended: kill the rest of the sandbox, forward the entrypoint's last output, exit with its status.</summary>
    private static void EndSandbox(ChildProcess main, int code, int signal)
    {
        if (Libc.getpid() == 1)
        {
            Libc.kill(-1, Libc.SIGKILL);
        }

        main.JoinPumps();
        SendExited(main.Id, code, signal);
        Agent.Shutdown(signal == 0 ? code : 128 + signal);
    }

    private static void WaitForChildren()
    {
        lock (Gate)
        {
            // A bounded wait: processes entered by a runtime exec can be reparented to us without a spawn of ours.
            if (!_spawnedSinceIdle)
            {
                Monitor.Wait(Gate, TimeSpan.FromSeconds(1));
            }

            _spawnedSinceIdle = false;
        }
    }
}
