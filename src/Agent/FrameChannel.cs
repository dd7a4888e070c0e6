using TypedSandbox.Agent.Protocol;

namespace TypedSandbox.Agent;

/// <summary>The agent's end of the protocol: frames are read from fd 0 and written to fd 1, which the OCI runtime
/// hands to the sandbox's PID 1 as pipes the engine owns. Every frame is sealed (<see cref="FrameSeal"/>) with the key
/// the engine writes first on fd 0, read here before the agent sends or runs anything.</summary>
internal static unsafe class FrameChannel
{
    private const int InputFd = 0, OutputFd = 1;
    private static readonly Lock WriteLock = new();
    private static readonly FrameSeal Seal = ReadKey();
    // Longest wait for a new engine after a handover: a day, whatever the engine asked for.
    private const int MaxHandoverSeconds = 24 * 60 * 60;
    // Environment.TickCount64 until which an EOF on the input means "no engine yet" (0: attached; an EOF ends the sandbox).
    private static long _detachedUntil;

    /// <summary>
    /// The engine hands the channel to the next engine (<see cref="FrameType.Detach"/>): answers with
    /// <see cref="FrameType.Detached"/>, then holds the write lock on this thread (the frame loop's) until
    /// <see cref="Reattach"/>, so every sender (output pumps, the reaper) waits and no frame is lost between engines;
    /// processes that write meanwhile block when their pipes fill. The channel's pipes stay open: the next engine
    /// reopens them through /proc and continues the seal's sequence numbers.
    /// </summary>
    public static void Detach(TimeSpan grace)
    {
        if (Volatile.Read(ref _detachedUntil) != 0)
        {
            return;
        }

        WriteLock.Enter();
        Send(FrameType.Detached, 0, []);
        var seconds = (long)Math.Clamp(grace.TotalSeconds, 1, MaxHandoverSeconds);
        Volatile.Write(ref _detachedUntil, Environment.TickCount64 + seconds * 1000);
    }

    /// <summary>A new engine took the channel over (<see cref="FrameType.Reattach"/>): senders go on.</summary>
    public static void Reattach()
    {
        if (Volatile.Read(ref _detachedUntil) == 0)
        {
            return;
        }

        Volatile.Write(ref _detachedUntil, 0);
        WriteLock.Exit();
    }

    /// <summary>At EOF while handed over: waits a moment for the next engine to open the pipe; false once the grace is over.</summary>
    private static bool WaitForNextEngine()
    {
        var until = Volatile.Read(ref _detachedUntil);
        if (until == 0 || Environment.TickCount64 >= until)
        {
            return false;
        }

        Thread.Sleep(20);
        return true;
    }

    /// <summary>Sends a frame whose payload is already at <c>frame[HeaderSize..HeaderSize+length]</c>; the frame has
    /// <see cref="FrameSeal.TagSize"/> bytes of room after the payload, where the tag goes (one write per frame).</summary>
    public static void SendInPlace(byte[] frame, FrameType type, uint id, int length)
    {
        Frames.WriteHeader(frame, type, id, length);
        var size = Frames.HeaderSize + length + FrameSeal.TagSize;
        lock (WriteLock)
        {
            Seal.Seal(frame.AsSpan(0, Frames.HeaderSize), frame.AsSpan(Frames.HeaderSize, length), frame.AsSpan(size - FrameSeal.TagSize, FrameSeal.TagSize));
            WriteAll(frame.AsSpan(0, size));
        }
    }

    public static void Send(FrameType type, uint id, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[Frames.HeaderSize + payload.Length + FrameSeal.TagSize];
        payload.CopyTo(frame.AsSpan(Frames.HeaderSize));
        SendInPlace(frame, type, id, payload.Length);
    }

    /// <summary>Reads the next frame; null at EOF (the engine closed the channel).</summary>
    public static (FrameType Type, uint Id, byte[] Payload)? Receive()
    {
        Span<byte> header = stackalloc byte[Frames.HeaderSize];
        if (!ReadExactly(header))
        {
            return null;
        }

        var (type, id, length) = Frames.ReadHeader(header);
        if (length < 0 || length > Frames.MaxPayload)
        {
            throw new InvalidDataException($"frame too large: {length}");
        }

        var payload = new byte[length];
        Span<byte> tag = stackalloc byte[FrameSeal.TagSize];
        if (!ReadExactly(payload) || !ReadExactly(tag))
        {
            return null;
        }
        // A frame the engine did not send (written into our stdin by sandbox code) or a lost one: end the sandbox.
        if (!Seal.Verify(header, payload, tag))
        {
            Agent.Shutdown(3);
        }

        return (type, id, payload);
    }

    private static FrameSeal ReadKey()
    {
        Span<byte> key = stackalloc byte[FrameSeal.KeySize];
        if (!ReadExactly(key))
        {
            Agent.Shutdown(1);
        }

        var seal = new FrameSeal(key, isEngine: false);
        key.Clear();
        return seal;
    }

    private static bool ReadExactly(Span<byte> buffer)
    {
        var done = 0;
        fixed (byte* p = buffer)
        {
            while (done < buffer.Length)
            {
                var n = Libc.read(InputFd, p + done, buffer.Length - done);
                if (n > 0) { done += (int)n; continue; }
                if (n < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EINTR)
                {
                    continue;
                }

                if (n == 0 && WaitForNextEngine())
                {
                    continue;
                }

                return false;
            }
        }
        return true;
    }

    private static void WriteAll(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = Libc.write(OutputFd, p + done, data.Length - done);
                if (n >= 0) { done += (int)n; continue; }
                if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EINTR)
                {
                    continue;
                }
                // The engine is gone: nobody can observe this sandbox any more, so end it.
                Agent.Shutdown(1);
            }
        }
    }
}
