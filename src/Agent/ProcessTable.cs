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
    private static bool _spawnedSinceIdle;

    public static void Spawn(uint id, SpawnRequest request)
    {
        Spawner.Pipes pipes;
        try { pipes = Spawner.CreatePipes(request); }
        catch (IOException e) { FrameChannel.Send(FrameType.SpawnFailed, id, System.Text.Encoding.UTF8.GetBytes(e.Message)); return; }

        ChildProcess child;
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
            child = new ChildProcess(id, pid, request.IsMain, pipes.StdinParent);
            ById[id] = child;
            ByPid[pid] = child;
            Span<byte> payload = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(payload, pid);
            FrameChannel.Send(FrameType.Started, id, payload);
            // The pumps start before the reaper can see this child: a process that exits at once must not end the
            // sandbox (JoinPumps) before its output was read.
            if (pipes.StdoutParent >= 0) child.StartPump(pipes.StdoutParent, FrameType.Stdout, 1);
            else FrameChannel.Send(FrameType.StreamClosed, id, [1]);
            if (pipes.StderrParent >= 0) child.StartPump(pipes.StderrParent, FrameType.Stderr, 2);
            else FrameChannel.Send(FrameType.StreamClosed, id, [2]);
            _spawnedSinceIdle = true;
            Monitor.Pulse(Gate);
        }
    }

    public static void Stdin(uint id, byte[]? data)
    {
        ChildProcess? child;
        lock (Gate) ById.TryGetValue(id, out child);
        child?.EnqueueStdin(data);
    }

    public static void Signal(uint id, int signal)
    {
        lock (Gate)
        {
            // Only while not reaped: after that the pid may belong to another process.
            if (!ById.TryGetValue(id, out var child) || child.Reaped) return;
            if (Libc.kill(-child.Pid, signal) != 0) Libc.kill(child.Pid, signal);
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
                if (Marshal.GetLastPInvokeError() == Libc.ECHILD) WaitForChildren();
                continue;
            }
            ChildProcess? child;
            lock (Gate)
            {
                if (!ByPid.Remove(pid, out child)) continue; // an orphan: reaping it is all PID 1 owes it
                child.Reaped = true;
                ById.Remove(child.Id);
            }
            var signal = (status & 0x7f) != 0 ? status & 0x7f : 0;
            var code = signal == 0 ? (status >> 8) & 0xff : -1;
            child.EnqueueStdin(null);
            if (child.IsMain) EndSandbox(child, code, signal);
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
        if (Libc.getpid() == 1) Libc.kill(-1, Libc.SIGKILL);
        main.JoinPumps();
        SendExited(main.Id, code, signal);
        Agent.Shutdown(signal == 0 ? code : 128 + signal);
    }

    private static void WaitForChildren()
    {
        lock (Gate)
        {
            // A bounded wait: processes entered by a runtime exec can be reparented to us without a spawn of ours.
            if (!_spawnedSinceIdle) Monitor.Wait(Gate, TimeSpan.FromSeconds(1));
            _spawnedSinceIdle = false;
        }
    }
}
