using TypedSandbox.Agent.Protocol;
using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Tests.Exec;

public sealed class AgentFrameReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4093)]
    [InlineData(65536)]
    [InlineData(1 << 20)]
    public async Task Frames_arriving_in_pieces_of_any_size_come_out_whole_and_in_order(int piece)
    {
        // Sizes around the reader's 128 KiB buffer, and one frame larger than it (the buffer grows for it).
        int[] sizes = [0, 1, 65536, 65536, 65536, 131_000, 300_000, 17];
        using var wire = new MemoryStream();
        for (var i = 0; i < sizes.Length; i++)
        {
            wire.Write(Frame(FrameType.Stdout, (uint)i, Payload(i, sizes[i])));
        }

        var reader = new AgentFrameReader(new PiecewiseStream(wire.ToArray(), piece));
        for (var i = 0; i < sizes.Length; i++)
        {
            var frame = await reader.ReadAsync(CancellationToken.None) ?? throw new Xunit.Sdk.XunitException($"EOF before frame {i}");
            Assert.Equal((FrameType.Stdout, (uint)i), (frame.Type, frame.Id));
            Assert.Equal(Payload(i, sizes[i]), reader.Payload(frame).ToArray());
            Assert.Equal(new byte[FrameSeal.TagSize], reader.Tag(frame).ToArray());
        }

        Assert.Null(await reader.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Output_that_ends_inside_a_frame_is_an_error_not_a_short_frame()
    {
        var frame = Frame(FrameType.Stdout, 1, new byte[1000]);
        var reader = new AgentFrameReader(new PiecewiseStream(frame[..500], 64));

        await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Text_where_a_frame_was_expected_is_handed_out_as_text()
    {
        var text = "crun: error: the container cannot start\n"u8.ToArray();
        var reader = new AgentFrameReader(new PiecewiseStream(text, 4));

        var frame = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(-1, frame?.Length);
        Assert.StartsWith("crun: error", await reader.ReadUnexpectedTextAsync(CancellationToken.None), StringComparison.Ordinal);
    }

    private static byte[] Payload(int seed, int length) =>
        Enumerable.Range(0, length).Select(i => (byte)(i * 31 + seed)).ToArray();

    // The seal is not the reader's concern: a zero tag stands in for it.
    private static byte[] Frame(FrameType type, uint id, byte[] payload)
    {
        var frame = new byte[Frames.HeaderSize + payload.Length + FrameSeal.TagSize];
        Frames.WriteHeader(frame, type, id, payload.Length);
        payload.CopyTo(frame.AsSpan(Frames.HeaderSize));
        return frame;
    }

    /// <summary>A pipe's view of bytes: each read returns at most <paramref name="piece"/> of them.</summary>
    private sealed class PiecewiseStream(byte[] data, int piece) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, piece), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset));
            _position += n;
            return n;
        }

        public override void Flush() => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
