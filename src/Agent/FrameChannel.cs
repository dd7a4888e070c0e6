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
