using System.Buffers.Binary;
using TypedSandbox.Agent;
using TypedSandbox.Agent.Protocol;

// Without arguments: the sandbox's PID 1, which spawns the processes the engine asks for over its stdin/stdout and
// reaps every orphan. With "fs-tools <json>": one filesystem operation for Modal's SDKs, run as an ordinary process.
// With "mount-helper ...": one mount in gVisor's kernel for mountImage, run by the engine only (MountHelper).
if (args.Length > 0 && args[0] == "fs-tools")
{
    return TypedSandbox.Agent.FsTools.FsToolsCommand.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "mount-helper")
{
    return TypedSandbox.Agent.MountHelper.Run(args[1..]);
}

Agent.Run();
return 0;

namespace TypedSandbox.Agent
{
    internal static class Agent
    {
        public static void Run()
        {
            // Shutdown kills every process it can signal (kill(-1)): only ever safe as the init of a pid namespace.
            if (Libc.getpid() != 1)
            {
                var message = "typedsandbox-agent: refusing to run outside a sandbox (it must be PID 1 of its own pid namespace)\n"u8;
                unsafe { fixed (byte* p = message)
                    {
                        Libc.write(2, p, message.Length);
                    }
                }
                Libc._exit(2);
            }
            // Not dumpable: processes in the sandbox cannot open /proc/1/fd/* and write into the engine's channel.
            Libc.prctl(Libc.PR_SET_DUMPABLE, 0, 0, 0, 0);
            new Thread(ProcessTable.Reap, 256 * 1024) { IsBackground = true, Name = "reaper" }.Start();

            Span<byte> version = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(version, Frames.Version);
            FrameChannel.Send(FrameType.Ready, 0, version);

            while (FrameChannel.Receive() is { } frame)
            {
                switch (frame.Type)
                {
                    case FrameType.Spawn:
                        SpawnRequest request;
                        try { request = SpawnRequest.Decode(frame.Payload); }
                        catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException)
                        {
                            FrameChannel.Send(FrameType.SpawnFailed, frame.Id, System.Text.Encoding.UTF8.GetBytes("malformed spawn request: " + e.Message));
                            break;
                        }
                        ProcessTable.Spawn(frame.Id, request);
                        break;
                    case FrameType.Stdin:
                        if (frame.Payload.Length > 0)
                        {
                            ProcessTable.Stdin(frame.Id, frame.Payload);
                        }

                        break;
                    case FrameType.StdinClose:
                        ProcessTable.Stdin(frame.Id, null);
                        break;
                    case FrameType.Connect:
                        ProcessTable.Connect(frame.Id, ConnectRequest.Decode(frame.Payload));
                        break;
                    case FrameType.Credit:
                        ProcessTable.Credit(frame.Id, CreditGrant.Decode(frame.Payload));
                        break;
                    case FrameType.Signal:
                        ProcessTable.Signal(frame.Id, BinaryPrimitives.ReadInt32LittleEndian(frame.Payload));
                        break;
                    case FrameType.Detach:
                        FrameChannel.Detach(TimeSpan.FromSeconds(frame.Payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(frame.Payload) : 0));
                        break;
                    case FrameType.Reattach:
                        FrameChannel.Reattach();
                        break;
                }
            }
            // The engine closed the channel (or handed it over and no engine came back in time): nobody can observe this
            // sandbox any more.
            Shutdown(0);
        }

        /// <summary>Ends the sandbox: as PID 1 our exit makes the kernel kill every process left in the namespace.</summary>
        public static void Shutdown(int status)
        {
            if (Libc.getpid() == 1)
            {
                Libc.kill(-1, Libc.SIGKILL);
            }

            Libc._exit(status);
        }
    }
}
