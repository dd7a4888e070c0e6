using TypedSandbox.Transport;

namespace TypedSandbox.Telemetry;

/// <summary>Counts the bytes a process's stdout or stderr delivers (<see cref="SandboxTelemetry.StreamedBytesCounter"/>).</summary>
internal sealed class CountingByteSource(IByteSource inner, string stream) : IByteSource
{
    private readonly KeyValuePair<string, object?> _tag = new(SandboxTelemetry.StreamTag, stream);

    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken)
    {
        var chunk = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (!chunk.IsEmpty)
        {
            Instruments.StreamedBytes.Add(chunk.Length, _tag);
        }
        return chunk;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>Counts the bytes written to a stdin (<see cref="SandboxTelemetry.StreamedBytesCounter"/>).</summary>
internal sealed class CountingByteSink(IByteSink inner, string stream) : IByteSink
{
    private readonly KeyValuePair<string, object?> _tag = new(SandboxTelemetry.StreamTag, stream);

    public async Task WriteAsync(ReadOnlyMemory<byte> data, bool endOfInput, CancellationToken cancellationToken)
    {
        await inner.WriteAsync(data, endOfInput, cancellationToken).ConfigureAwait(false);
        if (!data.IsEmpty)
        {
            Instruments.StreamedBytes.Add(data.Length, _tag);
        }
    }
}
