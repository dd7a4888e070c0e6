using System.Buffers.Binary;
using System.Text;

namespace TypedSandbox.Server.Tests.Network;

/// <summary>Builds TLS 1.2/1.3-shaped ClientHello records for the parser's tests.</summary>
internal static class ClientHelloBytes
{
    /// <summary>A ClientHello record with <paramref name="serverName"/> in SNI (none when null) after a padding extension.</summary>
    public static byte[] Build(string? serverName, int paddingBytes = 0)
    {
        var extensions = new List<byte>();
        if (paddingBytes > 0)
        {
            extensions.AddRange(Extension(21, new byte[paddingBytes]));
        }

        if (serverName is not null)
        {
            var name = Encoding.ASCII.GetBytes(serverName);
            extensions.AddRange(Extension(0, [.. U16(name.Length + 3), 0, .. U16(name.Length), .. name]));
        }

        extensions.AddRange(Extension(43, [2, 3, 4])); // supported_versions: TLS 1.3
        byte[] hello = [3, 3, .. new byte[32], 0, .. U16(2), 0x13, 0x01, 1, 0, .. U16(extensions.Count), .. extensions];
        byte[] handshake = [1, (byte)(hello.Length >> 16), (byte)(hello.Length >> 8), (byte)hello.Length, .. hello];
        return [0x16, 3, 1, .. U16(handshake.Length), .. handshake];
    }

    private static byte[] Extension(int type, byte[] body) => [.. U16(type), .. U16(body.Length), .. body];

    private static byte[] U16(int value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        return bytes;
    }
}
