using System.Text;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>Tar headers for layers that tests stream without holding their content (bombs, large files).</summary>
internal static class UstarHeader
{
    /// <summary>A ustar header of one regular file of <paramref name="size"/> bytes.</summary>
    public static byte[] RegularFile(string name, long size)
    {
        var header = new byte[512];
        Encoding.ASCII.GetBytes(name).CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 116);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(header, 124);
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(header, 136);
        header[156] = (byte)'0';
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(header, 257);
        "        "u8.CopyTo(header.AsSpan(148));
        var sum = header.Sum(b => (int)b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        return header;
    }
}
