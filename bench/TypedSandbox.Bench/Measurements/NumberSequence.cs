using System.Globalization;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// The byte sequence the throughput measurements stream: the decimal numbers 1, 2, 3, … one per line, cut at an exact
/// length. Order-sensitive, so a lost, duplicated or reordered chunk changes the bytes. bench/js/sequence.mjs produces
/// the same bytes for the JavaScript side.
/// </summary>
internal static class NumberSequence
{
    /// <summary>Where <paramref name="bytes"/> bytes of it are written inside a sandbox (the overlay root, not the memory-backed /tmp).</summary>
    public static string DataPath(long bytes) => string.Create(CultureInfo.InvariantCulture, $"/bench-data-{bytes}");

    /// <summary>A busybox shell command writing the first <paramref name="bytes"/> bytes to <see cref="DataPath"/>.</summary>
    public static string WriteCommand(long bytes) =>
        string.Create(CultureInfo.InvariantCulture, $"seq 1 {bytes} | head -c {bytes} > {DataPath(bytes)}");

    /// <summary>The first <paramref name="bytes"/> bytes.</summary>
    public static byte[] Expected(int bytes)
    {
        var buffer = new byte[bytes];
        var offset = 0;
        Span<byte> line = stackalloc byte[24];
        for (long n = 1; offset < bytes; n++)
        {
            n.TryFormat(line, out var digits, provider: CultureInfo.InvariantCulture);
            line[digits++] = (byte)'\n';
            var take = Math.Min(digits, bytes - offset);
            line[..take].CopyTo(buffer.AsSpan(offset));
            offset += take;
        }

        return buffer;
    }

    /// <summary>Checks a stream chunk by chunk against <see cref="Expected"/> without holding what was received.</summary>
    public sealed class Checker(byte[] expected)
    {
        public long Received { get; private set; }

        public bool Mismatch { get; private set; }

        public bool Exact => !Mismatch && Received == expected.Length;

        public void Add(ReadOnlySpan<byte> chunk)
        {
            if (!Mismatch && (Received + chunk.Length > expected.Length || !chunk.SequenceEqual(expected.AsSpan((int)Received, chunk.Length))))
            {
                Mismatch = true;
            }

            Received += chunk.Length;
        }

        public override string ToString() => Exact ? "exact" : $"{Received} bytes, {(Mismatch ? "mismatch" : "short")}";
    }

    internal static string Describe(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:0.#} MB");
}
