using Microsoft.Win32.SafeHandles;
using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Exec;

/// <summary>
/// Byte log of one output stream, addressable by byte offset, bounded in memory and on disk. The writer may only send
/// what the journal granted (<see cref="OutputBounds"/>): bytes a reader has not taken yet never exceed the window, so a
/// process that writes faster than its client reads blocks on write inside the sandbox, and nothing is lost. Bytes
/// readers took are dropped only when room is needed, and the last <see cref="OutputBounds.RewindBytes"/> of them are
/// always kept, so a client that reconnects resumes from its offset.
/// </summary>
/// <remarks>One writer (<see cref="Append"/>, <see cref="Complete"/>), any number of concurrent readers. Up to
/// <see cref="OutputBounds.MemoryBytes"/> the bytes stay in memory; past that they move to a ring file of
/// <see cref="OutputBounds.DiskBytes"/> (deleted on dispose), if the engine's spill budget has room for one.</remarks>
internal sealed partial class ExecJournal : IAsyncDisposable
{
    /// <summary>Bytes kept in memory before the journal spills to a file.</summary>
    public const int DefaultMemoryThreshold = OutputBounds.DefaultMemoryBytes;

    private readonly Lock _gate = new();
    private readonly string? _spillDirectory;
    private readonly OutputBounds _bounds;
    private readonly SpillBudget? _budget;
    private readonly Action<long>? _grant;
    // Memory ring: offset o is at o % _memory.Length; it grows by doubling up to the memory bound.
    private byte[] _memory = [];
    // File ring (once spilled): offset o is at o % _bounds.DiskBytes.
    private SafeFileHandle? _spill;
    private long _start;
    private long _length;
    private long _consumed;
    private long _granted;
    private bool _complete;
    private bool _sourceClosed;
    private bool _disposed;
    private long _overflow;
    // Spill budget this journal holds: the whole disk bound while it may still grow, what its file holds once complete.
    private long _reserved;
    private int _readers;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Creates an empty journal with the default bounds and no writer to grant credit to (tests, tools).</summary>
    /// <param name="spillDirectory">Where the spill file goes once the journal outgrows memory; null = the system temp directory.</param>
    /// <param name="memoryThreshold">Bytes kept in memory before spilling.</param>
    public ExecJournal(string? spillDirectory = null, int memoryThreshold = DefaultMemoryThreshold)
        : this(spillDirectory, OutputBounds.Default with { MemoryBytes = memoryThreshold }, null, null)
    {
    }

    /// <summary>Creates an empty journal whose writer sends only what <paramref name="grant"/> allowed.</summary>
    /// <param name="spillDirectory">Where the spill file goes; null = the system temp directory.</param>
    /// <param name="bounds">Memory, disk and window sizes.</param>
    /// <param name="budget">The engine-wide spill budget; null = this journal may always spill.</param>
    /// <param name="grant">Called (outside any lock) with the new total the writer may have sent; <see cref="long.MaxValue"/>
    /// once nobody will read any more (the writer then drains its source to EOF).</param>
    internal ExecJournal(string? spillDirectory, OutputBounds bounds, SpillBudget? budget, Action<long>? grant)
    {
        bounds.Validate();
        _spillDirectory = spillDirectory;
        _bounds = bounds;
        _budget = budget;
        _grant = grant;
        _granted = InitialWindow;
    }

    /// <summary>The total the writer may send before any read: the memory window (the disk window needs the budget).</summary>
    internal long InitialWindow => _budget is null ? _bounds.Window(spilled: true) : _bounds.Window(spilled: false);

    /// <summary>Bytes appended so far.</summary>
    public long Length { get { lock (_gate) { return _length; } } }

    /// <summary>True once the stream ended: no more bytes will be appended.</summary>
    public bool IsComplete { get { lock (_gate) { return _complete; } } }

    /// <summary>Bytes held now (memory or spill file): never more than the bounds.</summary>
    public long StoredBytes { get { lock (_gate) { return _length - _start; } } }

    /// <summary>
    /// What the journal costs now: its memory buffer, or its spill file's reservation once spilled (the whole disk bound
    /// while the stream runs, what the file holds once it is complete).
    /// </summary>
    public long FootprintBytes { get { lock (_gate) { return _spill is not null ? _reserved : _memory.Length; } } }

    /// <summary>True once the stream is complete and a reader has taken it to its end.</summary>
    public bool IsReadToEnd { get { lock (_gate) { return _complete && _consumed >= _length; } } }

    /// <summary>The part of <see cref="FootprintBytes"/> held in the engine's memory (0 once the stream spilled to a file).</summary>
    public long MemoryFootprintBytes { get { lock (_gate) { return _spill is not null ? 0 : _memory.Length; } } }

    /// <summary>True while a client streams this journal (<see cref="OpenReader"/>): its bytes are not freed under it.</summary>
    public bool IsBeingRead => Volatile.Read(ref _readers) > 0;

    /// <summary>
    /// Marks a client's output stream open until the result is disposed: the engine's bound on finished execs' output
    /// frees other execs first, so a stream being read never loses its bytes mid-read.
    /// </summary>
    public IDisposable OpenReader()
    {
        Interlocked.Increment(ref _readers);
        return new ReaderLease(this);
    }

    /// <summary>Bytes a writer sent beyond its credit (a misbehaving agent): dropped, never stored.</summary>
    public long OverflowBytes { get { lock (_gate) { return _overflow; } } }

    /// <summary>Appends bytes at the end. Ignored after <see cref="Complete"/> or dispose.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        TaskCompletionSource signal;
        long grant = 0;
        lock (_gate)
        {
            if (_complete || _disposed)
            {
                return;
            }
            // Past the memory bound the stream moves to a spill file when the budget has room: history stays readable
            // by offset (a reconnecting or second reader) up to the disk bound, not just the memory one.
            var spilled = _spill is null && _length + data.Length - _start > _bounds.MemoryBytes && TrySpill();
            // Room: drop bytes readers took, keeping the rewind margin behind the furthest reader.
            MakeRoom(data.Length);
            if (_spill is null && _length + data.Length - _start > _memory.Length && _memory.Length < _bounds.MemoryBytes)
            {
                GrowMemory(Math.Min(_length + data.Length - _start, _bounds.MemoryBytes));
            }

            var room = (int)Math.Max(0, Math.Min(data.Length, Capacity() - (_length - _start)));
            if (_spill is null)
            {
                room = (int)Math.Min(room, _memory.Length - (_length - _start));
            }

            if (room < data.Length)
            {
                _overflow += data.Length - room;
            }

            if (room > 0)
            {
                Write(_length, data[..room]);
                _length += room;
            }
            // The writer used its whole memory window and nobody reads: move to a spill file and widen the window.
            if (!spilled && _spill is null && _budget is not null && _length >= _granted)
            {
                spilled = TrySpill();
            }

            if (spilled)
            {
                grant = RaiseGrant(force: true);
            }

            signal = SwapSignal();
        }
        signal.TrySetResult();
        if (grant > 0)
        {
            _grant?.Invoke(grant);
        }
    }

    /// <summary>Marks the end of the stream; waiting readers get EOF. A writer still sending is let through to EOF.</summary>
    public void Complete()
    {
        bool release;
        long returned;
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (_complete)
            {
                return;
            }

            _complete = true;
            release = !_sourceClosed;
            returned = ShrinkReservation();
            signal = SwapSignal();
        }
        signal.TrySetResult();
        if (returned > 0)
        {
            _budget?.Release(returned);
        }

        if (release)
        {
            _grant?.Invoke(long.MaxValue);
        }
    }

    /// <summary>The writer reached EOF (the agent closed the stream).</summary>
    internal void CompleteAtSource()
    {
        lock (_gate)
        {
            _sourceClosed = true;
        }

        Complete();
    }

    /// <summary>
    /// Reads up to <paramref name="maxBytes"/> bytes at <paramref name="offset"/> into a new array. Waits until bytes
    /// exist there or the journal completes; returns empty at EOF. Reading moves the window: the writer may then send more.
    /// </summary>
    /// <exception cref="EngineException">The bytes at <paramref name="offset"/> were read long ago and dropped (INVALID_ARGUMENT),
    /// or the exec's output was freed (NOT_FOUND).</exception>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(long offset, int maxBytes, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        var available = await WaitForBytesAsync(offset, ct).ConfigureAwait(false);
        if (available == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var result = new byte[(int)Math.Min(maxBytes, available)];
        return result.AsMemory(0, await ReadAsync(offset, result, ct).ConfigureAwait(false));
    }

    /// <summary>
    /// Copies up to <paramref name="destination"/>'s length of bytes at <paramref name="offset"/> into it (a stream's
    /// reusable buffer: no array per chunk). Waits until bytes exist there or the journal completes; returns 0 at EOF.
    /// Reading moves the window: the writer may then send more.
    /// </summary>
    /// <exception cref="EngineException">The bytes at <paramref name="offset"/> were read long ago and dropped (INVALID_ARGUMENT),
    /// or the exec's output was freed (NOT_FOUND).</exception>
    public async ValueTask<int> ReadAsync(long offset, Memory<byte> destination, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfZero(destination.Length);
        while (true)
        {
            Task? changed;
            int count;
            long grant;
            lock (_gate)
            {
                changed = Pending(offset);
                if (changed is not null)
                {
                    goto Wait;
                }

                if (offset >= _length)
                {
                    return 0; // EOF
                }

                count = (int)Math.Min(destination.Length, _length - offset);

                Read(offset, destination.Span[..count]);
                _consumed = Math.Max(_consumed, offset + count);
                grant = RaiseGrant(force: false);
            }
            if (grant > 0)
            {
                _grant?.Invoke(grant);
            }

            return count;
        Wait:
            await changed.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until bytes exist at <paramref name="offset"/> or the journal completes; returns how many exist.</summary>
    private async ValueTask<long> WaitForBytesAsync(long offset, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        while (true)
        {
            Task? changed;
            lock (_gate)
            {
                changed = Pending(offset);
                if (changed is null)
                {
                    return Math.Max(0, _length - offset);
                }
            }
            await changed.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Under the lock: null when bytes exist at <paramref name="offset"/> (or EOF), else the signal to wait for.</summary>
    private Task? Pending(long offset)
    {
        if (_disposed)
        {
            throw EngineException.NotFound(
                "This exec's output was freed (it finished long ago, or its sandbox's finished execs held too much unread output); it can no longer be read.");
        }

        if (offset < _start)
        {
            throw EngineException.Invalid(
                $"Output before offset {_start} was already read and dropped (the engine keeps {_bounds.RewindBytes(_spill is not null)} bytes behind the furthest reader); resume from a later offset.");
        }

        return offset >= _length && !_complete ? _changed.Task : null;
    }

    /// <summary>Reads everything from <paramref name="offset"/> until the journal completes.</summary>
    public async Task<byte[]> ReadToEndAsync(long offset, CancellationToken ct)
    {
        using var result = new MemoryStream();
        while (true)
        {
            var chunk = await ReadAsync(offset, 1 << 20, ct).ConfigureAwait(false);
            if (chunk.IsEmpty)
            {
                return result.ToArray();
            }

            result.Write(chunk.Span);
            offset += chunk.Length;
        }
    }

    /// <summary>Completes the journal, deletes its spill file and gives its budget back.</summary>
    public ValueTask DisposeAsync()
    {
        TaskCompletionSource signal;
        bool release;
        lock (_gate)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }

            _disposed = true;
            release = !_sourceClosed && !_complete;
            _complete = true;
            if (_spill is not null)
            {
                _spill.Dispose();
                _spill = null;
                _budget?.Release(_reserved);
                _reserved = 0;
            }
            _memory = [];
            signal = SwapSignal();
        }
        signal.TrySetResult();
        if (release)
        {
            _grant?.Invoke(long.MaxValue);
        }

        return ValueTask.CompletedTask;
    }

    private long Capacity() => _spill is not null ? _bounds.DiskBytes : _bounds.MemoryBytes;

    /// <summary>The new credit to send (0 = none): the furthest read plus the window, in steps of a quarter window.</summary>
    private long RaiseGrant(bool force)
    {
        var window = _bounds.Window(_spill is not null || _budget is null);
        var limit = _consumed + window;
        if (limit <= _granted || (!force && limit - _granted < Math.Max(1, window / 4)))
        {
            return 0;
        }

        _granted = limit;
        return limit;
    }

    private TaskCompletionSource SwapSignal()
    {
        var previous = _changed;
        _changed = NewSignal();
        return previous;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class ReaderLease(ExecJournal journal) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref journal._readers);
            }
        }
    }
}
