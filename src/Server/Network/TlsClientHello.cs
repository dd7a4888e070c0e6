using System.Buffers.Binary;
using System.Text;

namespace TypedSandbox.Server.Network;

/// <summary>
/// Reads the server name (SNI) from the first TLS record a client sends. Only a ClientHello that fits in its first
/// record is read (every mainstream client's does, post-quantum key shares included); anything else is refused.
/// Every length is checked against what encloses it, so hostile input ends as <see cref="PrefaceStatus.Invalid"/>.
/// </summary>
internal static class TlsClientHello
{
    /// <summary>TLS's own bound on a record's plaintext (2^14 bytes).</summary>
    public const int MaxRecordLength = 16384;
    private const int RecordHeader = 5;

    /// <summary>How many bytes the proxy reads at most before deciding.</summary>
    public const int MaxPrefaceBytes = RecordHeader + MaxRecordLength;

    /// <summary>Parses <paramref name="data"/>, the bytes received so far.</summary>
    public static Preface Read(ReadOnlySpan<byte> data)
    {
        if (data.Length < RecordHeader)
        {
            return data.Length > 0 && data[0] != 0x16 ? Preface.Invalid : Preface.NeedMore;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
        if (data[0] != 0x16 || data[1] != 3 || length is < 4 or > MaxRecordLength)
        {
            return Preface.Invalid;
        }

        if (data.Length < RecordHeader + length)
        {
            return Preface.NeedMore;
        }

        var handshake = data.Slice(RecordHeader, length);
        var helloLength = (handshake[1] << 16) | (handshake[2] << 8) | handshake[3];
        if (handshake[0] != 1 || helloLength > handshake.Length - 4)
        {
            return Preface.Invalid;
        }

        var reader = new Reader(handshake.Slice(4, helloLength));
        if (!reader.Skip(2 + 32) || !reader.SkipVector(1) || !reader.SkipVector(2) || !reader.SkipVector(1))
        {
            return Preface.Invalid;
        }

        if (reader.Remaining == 0)
        {
            return new Preface(PrefaceStatus.Complete, null); // no extensions at all
        }

        if (!reader.Vector(2, out var extensions))
        {
            return Preface.Invalid;
        }

        var extensionReader = new Reader(extensions);
        while (extensionReader.Remaining > 0)
        {
            if (!extensionReader.UInt16(out var type) || !extensionReader.Vector(2, out var body))
            {
                return Preface.Invalid;
            }

            if (type == 0)
            {
                return ServerName(body);
            }
        }
        return new Preface(PrefaceStatus.Complete, null);
    }

    private static Preface ServerName(ReadOnlySpan<byte> extension)
    {
        var reader = new Reader(extension);
        if (!reader.Vector(2, out var list))
        {
            return Preface.Invalid;
        }

        var names = new Reader(list);
        while (names.Remaining > 0)
        {
            if (!names.Byte(out var kind) || !names.Vector(2, out var name))
            {
                return Preface.Invalid;
            }

            if (kind == 0)
            {
                // RFC 6066: a host_name is ASCII; anything else is not a name the allow-list can hold.
                return name.Length is > 0 and <= 255 && Ascii.IsValid(name)
                    ? new Preface(PrefaceStatus.Complete, HostName.Normalize(Encoding.ASCII.GetString(name)))
                    : Preface.Invalid;
            }
        }
        return new Preface(PrefaceStatus.Complete, null);
    }

    /// <summary>A bounds-checked cursor over a span.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly int Remaining => _rest.Length;

        public bool Skip(int count)
        {
            if (count > _rest.Length)
            {
                return false;
            }

            _rest = _rest[count..];
            return true;
        }

        public bool Byte(out byte value)
        {
            value = _rest.Length > 0 ? _rest[0] : (byte)0;
            return Skip(1);
        }

        public bool UInt16(out int value)
        {
            value = _rest.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(_rest) : 0;
            return Skip(2);
        }

        public bool Vector(int lengthBytes, out ReadOnlySpan<byte> body)
        {
            body = default;
            int length;
            if (lengthBytes == 1)
            {
                if (!Byte(out var b))
                {
                    return false;
                }

                length = b;
            }
            else if (!UInt16(out length))
            {
                return false;
            }

            if (length > _rest.Length)
            {
                return false;
            }

            body = _rest[..length];
            _rest = _rest[length..];
            return true;
        }

        public bool SkipVector(int lengthBytes) => Vector(lengthBytes, out _);
    }
}
