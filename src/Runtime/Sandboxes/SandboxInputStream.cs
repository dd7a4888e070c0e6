using System.Text;

namespace TypedSandbox;

/// <summary>Where written bytes go: the stdin of a sandbox or a process.</summary>
internal interface IByteSink
{
    /// <summary>Sends <paramref name="data"/>; with <paramref name="endOfInput"/>, closes the input after it.</summary>
    Task WriteAsync(ReadOnlyMemory<byte> data, bool endOfInput, CancellationToken cancellationToken);
}

/// <summary>
/// The stdin of a sandbox or a process: a write-only <see cref="Stream"/>. Each write is sent at once (writes are
/// idempotent by offset, so retries never duplicate input). <see cref="CloseAsync"/> (or disposing) sends end-of-file.
/// </summary>
public sealed class SandboxInputStream : Stream
{
    private readonly IByteSink _sink;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _closed;

    /// <param name="sink">Where the bytes go; its writes are unary calls, so failures arrive mapped.</param>
    internal SandboxInputStream(IByteSink sink) => _sink = sink;

    /// <summary>Writes <paramref name="text"/> as UTF-8.</summary>
    /// <param name="text">The text to send.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public Task WriteAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return;
        }
        await SendAsync(buffer, endOfInput: false, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Sends end-of-file; the reader in the sandbox sees its input end. Later writes fail.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (_closed)
        {
            return;
        }
        await SendAsync(ReadOnlyMemory<byte>.Empty, endOfInput: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendAsync(ReadOnlyMemory<byte> data, bool endOfInput, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closed)
            {
                if (endOfInput)
                {
                    return;
                }
                throw new InvalidOperationException("The input was closed; nothing more can be written.");
            }
            await _sink.WriteAsync(data, endOfInput, cancellationToken).ConfigureAwait(false);
            if (endOfInput)
            {
                _closed = true;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (!_closed)
        {
            try
            {
                await CloseAsync().ConfigureAwait(false);
            }
            catch (SandboxException)
            {
                // The process may be gone already; there is nobody left to read end-of-file.
            }
        }
        _gate.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override bool CanRead => false;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => !_closed;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException("Sandbox input has no length.");

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException("Sandbox input cannot seek.");
        set => throw new NotSupportedException("Sandbox input cannot seek.");
    }

    /// <inheritdoc/>
    public override void Flush() { }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Sandbox input is write-only.");

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("Sandbox input cannot seek.");

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException("Sandbox input cannot seek.");

    /// <summary>Not supported: input is written asynchronously only.</summary>
    /// <exception cref="NotSupportedException">Always; use <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.</exception>
    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Sandbox input is written asynchronously; use WriteAsync.");
}
