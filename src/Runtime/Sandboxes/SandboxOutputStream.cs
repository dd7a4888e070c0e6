using System.Runtime.CompilerServices;
using System.Text;
using TypedSandbox.Transport;

namespace TypedSandbox;

/// <summary>
/// The stdout or stderr of a sandbox or a process: a read-only <see cref="Stream"/> of raw bytes, with text helpers.
/// Output is kept on the server until read, and a cancelled read loses nothing. Read it one way: either as bytes
/// (the <see cref="Stream"/> API) or as text (<see cref="ReadToEndAsync"/>, <see cref="ReadLinesAsync"/>), because
/// the text helpers buffer decoded text.
/// </summary>
public sealed class SandboxOutputStream : Stream
{
    private readonly IByteSource? _source;
    private ReadOnlyMemory<byte> _pending;
    private readonly Decoder _decoder = new UTF8Encoding(false).GetDecoder();
    private readonly StringBuilder _text = new();
    private int _scanned;
    private byte[]? _textBytes;
    private bool _disposed;

    /// <param name="source">Where the bytes come from; null for an output that was discarded (always empty).</param>
    internal SandboxOutputStream(IByteSource? source) => _source = source;

    /// <summary>Reads everything that is left, up to the end of the stream, as UTF-8 text.</summary>
    /// <param name="cancellationToken">Stops waiting; what was not yet read stays available.</param>
    public async Task<string> ReadToEndAsync(CancellationToken cancellationToken = default)
    {
        while (await FillTextAsync(cancellationToken).ConfigureAwait(false))
        {
        }
        var text = _text.ToString();
        _text.Clear();
        _scanned = 0;
        return text;
    }

    /// <summary>Reads everything that is left, up to the end of the stream, as bytes.</summary>
    /// <param name="cancellationToken">Stops waiting; what was not yet read stays available.</param>
    public async Task<byte[]> ReadAllBytesAsync(CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>Reads the next line (without its terminator), or null at the end of the stream.</summary>
    /// <param name="cancellationToken">Stops waiting; a partly received line is kept for the next read.</param>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            for (; _scanned < _text.Length; _scanned++)
            {
                if (_text[_scanned] == '\n')
                {
                    var end = _scanned > 0 && _text[_scanned - 1] == '\r' ? _scanned - 1 : _scanned;
                    var line = _text.ToString(0, end);
                    _text.Remove(0, _scanned + 1);
                    _scanned = 0;
                    return line;
                }
            }
            if (!await FillTextAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_text.Length == 0)
                {
                    return null;
                }
                var rest = _text.ToString();
                _text.Clear();
                _scanned = 0;
                return rest;
            }
        }
    }

    /// <summary>Yields the stream's lines (without line terminators) as they arrive.</summary>
    /// <param name="cancellationToken">Stops the enumeration; lines not yet yielded stay available.</param>
    public async IAsyncEnumerable<string> ReadLinesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            yield return line;
        }
    }

    /// <summary>Decodes the next bytes into the text buffer; false at the end of the stream. Decoder state and
    /// text live in fields, so a cancelled read loses nothing.</summary>
    private async Task<bool> FillTextAsync(CancellationToken cancellationToken)
    {
        var bytes = _textBytes ??= new byte[16 * 1024];
        var count = await ReadAsync(bytes, cancellationToken).ConfigureAwait(false);
        var flush = count == 0;
        var chars = new char[_decoder.GetCharCount(bytes, 0, count, flush)];
        var decoded = _decoder.GetChars(bytes, 0, count, chars, 0, flush);
        _text.Append(chars, 0, decoded);
        return !flush;
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }
        if (_pending.IsEmpty)
        {
            if (_source is null)
            {
                return 0;
            }
            // Failures arrive mapped (ResumableByteSource maps the ones it does not resume).
            _pending = await _source.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (_pending.IsEmpty)
            {
                return 0;
            }
        }
        var count = Math.Min(buffer.Length, _pending.Length);
        _pending[..count].CopyTo(buffer);
        _pending = _pending[count..];
        return count;
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Not supported: this stream is read asynchronously only.</summary>
    /// <exception cref="NotSupportedException">Always; use <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>.</exception>
    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Sandbox output is read asynchronously; use ReadAsync, ReadToEndAsync or ReadLinesAsync.");

    /// <inheritdoc/>
    public override bool CanRead => !_disposed;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException("Sandbox output has no known length.");

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException("Sandbox output cannot seek.");
        set => throw new NotSupportedException("Sandbox output cannot seek.");
    }

    /// <inheritdoc/>
    public override void Flush() { }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("Sandbox output cannot seek.");

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException("Sandbox output is read-only.");

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Sandbox output is read-only.");

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            if (_source is not null)
            {
                await _source.DisposeAsync().ConfigureAwait(false);
            }
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // The open call (if any) is released by DisposeAsync; a synchronous dispose only stops further reads.
        _disposed = true;
        base.Dispose(disposing);
    }
}
