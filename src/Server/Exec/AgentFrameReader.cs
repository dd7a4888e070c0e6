using System.Text;
using TypedSandbox.Agent.Protocol;

namespace TypedSandbox.Server.Exec;

/// <summary>
/// Reads the agent's frames into one buffer and hands each out where it lies: a frame's payload is verified and
/// dispatched in place, never copied into a second buffer first. The buffer starts at two output frames and grows
/// only for a larger frame (at most <see cref="Frames.MaxPayload"/>).
/// </summary>
internal sealed class AgentFrameReader(Stream source)
{
    // Two of the agent's 64 KiB output frames: what the engine held per sandbox before (a read buffer and a payload).
    private const int InitialSize = 128 * 1024;
    private const int UnexpectedTextBytes = 4096;
    private byte[] _buffer = new byte[InitialSize];
    private int _start;
    private int _end;

    /// <summary>Where one buffered frame lies; valid until the next <see cref="ReadAsync"/>.</summary>
    internal readonly record struct Frame(FrameType Type, uint Id, int Start, int Length);

    /// <summary>
    /// Buffers the next whole frame; null at EOF. A header whose length is not a frame's returns a frame of length
    /// -1 (most likely a runtime's error text; see <see cref="ReadUnexpectedTextAsync"/>).
    /// </summary>
    public async ValueTask<Frame?> ReadAsync(CancellationToken ct)
    {
        if (!await FillAsync(Frames.HeaderSize, ct).ConfigureAwait(false))
        {
            return null;
        }

        var (type, id, length) = Frames.ReadHeader(_buffer.AsSpan(_start, Frames.HeaderSize));
        if (length < 0 || length > Frames.MaxPayload)
        {
            return new Frame(type, id, _start, -1);
        }

        if (!await FillAsync(Frames.HeaderSize + length + FrameSeal.TagSize, ct).ConfigureAwait(false))
        {
            throw new EndOfStreamException("The agent's output ended inside a frame.");
        }

        var frame = new Frame(type, id, _start, length);
        _start += Frames.HeaderSize + length + FrameSeal.TagSize;
        return frame;
    }

    /// <summary>The frame's header bytes (what its seal covers first).</summary>
    public ReadOnlySpan<byte> Header(Frame frame) => _buffer.AsSpan(frame.Start, Frames.HeaderSize);

    /// <summary>The frame's payload, in place.</summary>
    public ReadOnlySpan<byte> Payload(Frame frame) => _buffer.AsSpan(frame.Start + Frames.HeaderSize, frame.Length);

    /// <summary>The frame's seal tag.</summary>
    public ReadOnlySpan<byte> Tag(Frame frame) => _buffer.AsSpan(frame.Start + Frames.HeaderSize + frame.Length, FrameSeal.TagSize);

    /// <summary>The bytes that came where a frame was expected, as text (up to 4 KiB).</summary>
    public async ValueTask<string> ReadUnexpectedTextAsync(CancellationToken ct)
    {
        if (_end - _start <= Frames.HeaderSize && _buffer.Length > _end)
        {
            _end += await source.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
        }

        return Encoding.UTF8.GetString(_buffer, _start, Math.Min(UnexpectedTextBytes, _end - _start)).Trim();
    }

    /// <summary>Reads until <paramref name="needed"/> bytes are buffered from the current frame on; false at EOF.</summary>
    private async ValueTask<bool> FillAsync(int needed, CancellationToken ct)
    {
        if (_start == _end)
        {
            (_start, _end) = (0, 0);
        }

        while (_end - _start < needed)
        {
            if (_buffer.Length - _start < needed)
            {
                // Move the partial frame to the front (growing the buffer only for a frame larger than it).
                var target = _buffer.Length >= needed ? _buffer : new byte[needed];
                Buffer.BlockCopy(_buffer, _start, target, 0, _end - _start);
                (_buffer, _end, _start) = (target, _end - _start, 0);
            }

            var n = await source.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            _end += n;
        }
        return true;
    }
}
