using Microsoft.Win32.SafeHandles;

namespace TypedSandbox.Server.Exec;

/// <summary>
/// Append-only byte log of one output stream, addressable by byte offset. Nothing is ever dropped: readers may be slow
/// or gone and come back with an offset. Memory stays bounded: past <see cref="DefaultMemoryThreshold"/> bytes the log
/// moves to a file (deleted on dispose) under the directory the owner gives.
/// </summary>
/// <remarks>One writer (<see cref="Append"/>, <see cref="Complete"/>), any number of concurrent readers.</remarks>
public sealed class ExecJournal : IAsyncDisposable
{
    /// <summary>Bytes kept in memory before the journal spills to a file.</summary>
    public const int DefaultMemoryThreshold = 256 * 1024;

    private const int TailSize = 64 * 1024;

    private readonly Lock _gate = new();
    private readonly string? _spillDirectory;
    private readonly int _memoryThreshold;
    private byte[] _memory = [];
    private SafeFileHandle? _spill;
    // Once spilled, appends collect here and reach the file a block at a time (small frames would each cost a pwrite).
    private byte[] _tail = [];
    private long _tailStart;
    private int _tailLength;
    private long _length;
    private bool _complete;
    private bool _disposed;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Creates an empty journal.</summary>
    /// <param name="spillDirectory">Where the spill file goes once the journal outgrows memory; null = the system temp directory.</param>
    /// <param name="memoryThreshold">Bytes kept in memory before spilling.</param>
    public ExecJournal(string? spillDirectory = null, int memoryThreshold = DefaultMemoryThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(memoryThreshold);
        _spillDirectory = spillDirectory;
        _memoryThreshold = memoryThreshold;
    }

    /// <summary>Bytes appended so far.</summary>
    public long Length { get { lock (_gate) return _length; } }

    /// <summary>True once the stream ended: no more bytes will be appended.</summary>
    public bool IsComplete { get { lock (_gate) return _complete; } }

    /// <summary>Appends bytes at the end. Ignored after <see cref="Complete"/> or dispose.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (_complete || _disposed) return;
            if (_spill is null && _length + data.Length <= _memoryThreshold)
            {
                if (_length + data.Length > _memory.Length)
                    Array.Resize(ref _memory, (int)Math.Min(_memoryThreshold, Math.Max(_length + data.Length, Math.Max(4096, _memory.Length * 2L))));
                data.CopyTo(_memory.AsSpan((int)_length));
            }
            else
            {
                _spill ??= OpenSpillFile();
                AppendToTail(data);
            }
            _length += data.Length;
            signal = SwapSignal();
        }
        signal.TrySetResult();
    }

    /// <summary>Marks the end of the stream; waiting readers get EOF.</summary>
    public void Complete()
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (_complete) return;
            _complete = true;
            signal = SwapSignal();
        }
        signal.TrySetResult();
    }

    /// <summary>
    /// Reads up to <paramref name="maxBytes"/> bytes at <paramref name="offset"/>. Waits until bytes exist there or the
    /// journal completes; returns empty at EOF.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(long offset, int maxBytes, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (offset < _length)
                {
                    if (_spill is null)
                        return _memory.AsSpan((int)offset, (int)Math.Min(maxBytes, _length - offset)).ToArray();
                    if (offset >= _tailStart)
                        return _tail.AsSpan((int)(offset - _tailStart), (int)Math.Min(maxBytes, _length - offset)).ToArray();
                    var buffer = new byte[(int)Math.Min(maxBytes, _tailStart - offset)];
                    RandomAccess.Read(_spill, buffer, offset);
                    return buffer;
                }
                if (_complete) return ReadOnlyMemory<byte>.Empty;
                changed = _changed.Task;
            }
            await changed.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Reads everything from <paramref name="offset"/> until the journal completes.</summary>
    public async Task<byte[]> ReadToEndAsync(long offset, CancellationToken ct)
    {
        using var result = new MemoryStream();
        while (true)
        {
            var chunk = await ReadAsync(offset, 1 << 20, ct).ConfigureAwait(false);
            if (chunk.IsEmpty) return result.ToArray();
            result.Write(chunk.Span);
            offset += chunk.Length;
        }
    }

    /// <summary>Completes the journal and deletes its spill file.</summary>
    public ValueTask DisposeAsync()
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (_disposed) return ValueTask.CompletedTask;
            _disposed = true;
            _complete = true;
            _spill?.Dispose();
            _spill = null;
            _memory = [];
            _tail = [];
            signal = SwapSignal();
        }
        signal.TrySetResult();
        return ValueTask.CompletedTask;
    }

    private void AppendToTail(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var n = Math.Min(data.Length, _tail.Length - _tailLength);
            data[..n].CopyTo(_tail.AsSpan(_tailLength));
            _tailLength += n;
            data = data[n..];
            if (_tailLength == _tail.Length)
            {
                RandomAccess.Write(_spill!, _tail, _tailStart);
                _tailStart += _tailLength;
                _tailLength = 0;
            }
        }
    }

    private SafeFileHandle OpenSpillFile()
    {
        var directory = _spillDirectory ?? Path.GetTempPath();
        Directory.CreateDirectory(directory);
        var handle = File.OpenHandle(Path.Combine(directory, $"journal-{Guid.NewGuid():N}"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        RandomAccess.Write(handle, _memory.AsSpan(0, (int)_length), 0);
        _memory = [];
        _tail = new byte[TailSize];
        _tailStart = _length;
        _tailLength = 0;
        return handle;
    }

    private TaskCompletionSource SwapSignal()
    {
        var previous = _changed;
        _changed = NewSignal();
        return previous;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
