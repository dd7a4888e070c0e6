namespace TypedSandbox.Server.Exec;

/// <summary>Where a journal's bytes live: a memory ring that grows to its bound, then a spill file on disk.</summary>
internal sealed partial class ExecJournal
{
    private void MakeRoom(int incoming)
    {
        var excess = _length + incoming - _start - Capacity();
        if (excess > 0)
        {
            _start = Math.Max(_start, Math.Min(_start + excess, _consumed - _bounds.RewindBytes(_spill is not null)));
        }
    }

    private bool TrySpill()
    {
        if (_bounds.DiskBytes <= _bounds.MemoryBytes)
        {
            return false;
        }

        if (_budget is not null && !_budget.TryReserve(_bounds.DiskBytes))
        {
            return false;
        }

        try
        {
            var directory = _spillDirectory ?? Path.GetTempPath();
            Directory.CreateDirectory(directory);
            // Unlinked at once: the file lives only as long as this handle, so even an engine killed hard leaves none.
            var path = Path.Combine(directory, SpillFiles.Prefix + Guid.NewGuid().ToString("N"));
            var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
            File.Delete(path);
            var held = new byte[_length - _start];
            Read(_start, held);
            _spill = handle;
            _reserved = _bounds.DiskBytes;
            _memory = [];
            Write(_start, held);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No spill file: the journal stays in memory and the writer blocks at the memory window.
            _budget?.Release(_bounds.DiskBytes);
            return false;
        }
    }

    /// <summary>
    /// Once the stream is complete its spill file never grows: keeps the reservation of what the file can hold now (its
    /// ring is written up to the stream's length) and returns the rest, to give back to the budget outside the lock.
    /// </summary>
    private long ShrinkReservation()
    {
        if (_spill is null)
        {
            return 0;
        }

        var keep = Math.Min(_length, _bounds.DiskBytes);
        var returned = _reserved - keep;
        _reserved = keep;
        return returned;
    }

    private void GrowMemory(long needed)
    {
        var size = Math.Max(4096, (long)_memory.Length);
        while (size < needed)
        {
            size *= 2;
        }

        var grown = new byte[(int)Math.Min(size, _bounds.MemoryBytes)];
        var held = _length - _start;
        if (held > 0)
        {
            // Re-lay the held bytes at their positions in the larger ring.
            var copy = new byte[held];
            Read(_start, copy);
            _memory = grown;
            Write(_start, copy);
        }
        else
        {
            _memory = grown;
        }
    }

    private void Write(long offset, ReadOnlySpan<byte> data)
    {
        var capacity = _spill is not null ? _bounds.DiskBytes : _memory.Length;
        while (!data.IsEmpty)
        {
            var position = offset % capacity;
            var n = (int)Math.Min(data.Length, capacity - position);
            if (_spill is not null)
            {
                RandomAccess.Write(_spill, data[..n], position);
            }
            else
            {
                data[..n].CopyTo(_memory.AsSpan((int)position));
            }

            data = data[n..];
            offset += n;
        }
    }

    private void Read(long offset, Span<byte> destination)
    {
        var capacity = _spill is not null ? _bounds.DiskBytes : _memory.Length;
        while (!destination.IsEmpty)
        {
            var position = offset % capacity;
            var n = (int)Math.Min(destination.Length, capacity - position);
            if (_spill is not null)
            {
                var read = RandomAccess.Read(_spill, destination[..n], position);
                if (read <= 0)
                {
                    throw new IOException($"The spill file ended at {position}; expected {n} more bytes.");
                }

                n = read;
            }
            else
            {
                _memory.AsSpan((int)position, n).CopyTo(destination);
            }
            destination = destination[n..];
            offset += n;
        }
    }
}
