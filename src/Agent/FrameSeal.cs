using System.Buffers.Binary;
using System.Numerics;

namespace TypedSandbox.Agent.Protocol;

/// <summary>
/// Authenticates the agent's frames in both directions, so that sandbox code that reaches the agent's pipes (gVisor
/// lets it open <c>/proc/1/fd/*</c> despite the agent being non-dumpable) can neither forge nor replay a frame: each
/// frame carries an 8-byte SipHash-2-4 tag over (direction, sequence number, header, payload) under a 128-bit key the
/// engine writes to the agent's stdin before the sandbox runs anything else. A frame whose tag does not match ends the
/// sandbox. SipHash because the agent runs without OpenSSL (no HMAC from the runtime) and it costs ~1 ns per byte.
/// </summary>
internal sealed class FrameSeal
{
    /// <summary>Bytes of the key, sent raw before the first frame.</summary>
    public const int KeySize = 16;

    /// <summary>Bytes of the tag that follows every frame's payload.</summary>
    public const int TagSize = 8;

    private const byte EngineToAgent = 1, AgentToEngine = 2;
    private readonly ulong _k0, _k1;
    private readonly byte _sendDirection, _receiveDirection;
    private ulong _sent, _received;

    /// <summary>A seal for one end; <paramref name="isEngine"/> picks which direction it sends.</summary>
    public FrameSeal(ReadOnlySpan<byte> key, bool isEngine)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"A frame key has {KeySize} bytes.", nameof(key));
        }

        _k0 = BinaryPrimitives.ReadUInt64LittleEndian(key);
        _k1 = BinaryPrimitives.ReadUInt64LittleEndian(key[8..]);
        (_sendDirection, _receiveDirection) = isEngine ? (EngineToAgent, AgentToEngine) : (AgentToEngine, EngineToAgent);
    }

    /// <summary>A seal resumed where another stopped (a restored memory snapshot continues the agent's sequence numbers).</summary>
    public FrameSeal(FrameSealState state, bool isEngine)
        : this(new byte[KeySize], isEngine)
    {
        (_k0, _k1, _sent, _received) = (state.K0, state.K1, state.Sent, state.Received);
    }

    /// <summary>The key and both sequence numbers, to resume this end of the channel later.</summary>
    public FrameSealState Capture() => new(_k0, _k1, _sent, _received);

    /// <summary>Writes the tag of the next frame sent; callers serialize sends (the sequence number is the order).</summary>
    public void Seal(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, Span<byte> tag) =>
        BinaryPrimitives.WriteUInt64LittleEndian(tag, Compute(_sendDirection, _sent++, header, payload));

    /// <summary>True when <paramref name="tag"/> is that of the next frame expected; false = forged, replayed or lost.</summary>
    public bool Verify(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> tag)
    {
        var expected = Compute(_receiveDirection, _received++, header, payload);
        // Constant time: a forger learns nothing from how fast a wrong tag is refused.
        return (expected ^ BinaryPrimitives.ReadUInt64LittleEndian(tag)) == 0;
    }

    private ulong Compute(byte direction, ulong sequence, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        Span<byte> prefix = stackalloc byte[16];
        prefix.Clear();
        prefix[0] = direction;
        BinaryPrimitives.WriteUInt64LittleEndian(prefix[8..], sequence);
        var hash = new SipHash24(_k0, _k1);
        hash.Append(prefix);
        hash.Append(header);
        hash.Append(payload);
        return hash.Finish();
    }

    /// <summary>SipHash-2-4 (Aumasson and Bernstein), fed in pieces.</summary>
    private struct SipHash24(ulong k0, ulong k1)
    {
        private ulong _v0 = k0 ^ 0x736f6d6570736575, _v1 = k1 ^ 0x646f72616e646f6d, _v2 = k0 ^ 0x6c7967656e657261, _v3 = k1 ^ 0x7465646279746573;
        private ulong _tail;
        private int _tailBytes;
        private long _total;

        public void Append(ReadOnlySpan<byte> data)
        {
            _total += data.Length;
            while (_tailBytes != 0 && data.Length > 0)
            {
                _tail |= (ulong)data[0] << (8 * _tailBytes);
                data = data[1..];
                if (++_tailBytes == 8)
                {
                    Block(_tail);
                    _tail = 0;
                    _tailBytes = 0;
                }
            }
            if (data.Length >= 8)
            {
                // The bulk of every frame: state in locals (registers), one 8-byte word per step.
                ulong v0 = _v0, v1 = _v1, v2 = _v2, v3 = _v3;
                var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(data[..(data.Length & ~7)]);
                foreach (var word in words)
                {
                    var m = BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word);
                    v3 ^= m;
                    Round(ref v0, ref v1, ref v2, ref v3);
                    Round(ref v0, ref v1, ref v2, ref v3);
                    v0 ^= m;
                }
                (_v0, _v1, _v2, _v3) = (v0, v1, v2, v3);
                data = data[(data.Length & ~7)..];
            }
            foreach (var b in data)
            {
                _tail |= (ulong)b << (8 * _tailBytes++);
            }
        }

        public ulong Finish()
        {
            var last = ((ulong)_total << 56) | _tail;
            Block(last);
            _v2 ^= 0xff;
            Round();
            Round();
            Round();
            Round();
            return _v0 ^ _v1 ^ _v2 ^ _v3;
        }

        private void Block(ulong m)
        {
            _v3 ^= m;
            Round();
            Round();
            _v0 ^= m;
        }

        private void Round() => Round(ref _v0, ref _v1, ref _v2, ref _v3);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
        {
            v0 += v1; v1 = BitOperations.RotateLeft(v1, 13); v1 ^= v0; v0 = BitOperations.RotateLeft(v0, 32);
            v2 += v3; v3 = BitOperations.RotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = BitOperations.RotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = BitOperations.RotateLeft(v1, 17); v1 ^= v2; v2 = BitOperations.RotateLeft(v2, 32);
        }
    }
}

/// <summary>One end of a sealed channel: its key halves and the next sequence number of each direction.</summary>
internal readonly record struct FrameSealState(ulong K0, ulong K1, ulong Sent, ulong Received);
