namespace TypedSandbox.Server.Exec;

/// <summary>Where a journal stood when its engine handed the sandbox over; its bytes travel beside it.</summary>
/// <param name="Start">Offset of the first byte still held.</param>
/// <param name="Length">Bytes appended so far (the held bytes are <c>Length - Start</c>).</param>
/// <param name="Consumed">The furthest offset a reader took.</param>
/// <param name="Granted">The credit the agent was given (the total it may have sent).</param>
/// <param name="Complete">No more bytes will be appended.</param>
/// <param name="SourceClosed">The agent closed the stream.</param>
internal sealed record JournalHandover(long Start, long Length, long Consumed, long Granted, bool Complete, bool SourceClosed);

/// <summary>A journal saved by the engine that handed its sandbox over, and loaded by the engine that adopts it.</summary>
internal sealed partial class ExecJournal
{
    /// <summary>The total the writer may have sent so far (the last credit granted).</summary>
    internal long Granted { get { lock (_gate) { return _granted; } } }

    /// <summary>Writes the held bytes to <paramref name="destination"/> and returns where the journal stands.</summary>
    /// <exception cref="InvalidOperationException">The journal's output was freed.</exception>
    internal JournalHandover SaveForHandover(Stream destination)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return new JournalHandover(_length, _length, _consumed, _granted, true, true);
            }

            var buffer = new byte[64 * 1024];
            for (var offset = _start; offset < _length;)
            {
                var n = (int)Math.Min(buffer.Length, _length - offset);
                Read(offset, buffer.AsSpan(0, n));
                destination.Write(buffer, 0, n);
                offset += n;
            }

            return new JournalHandover(_start, _length, _consumed, _granted, _complete, _sourceClosed);
        }
    }

    /// <summary>
    /// Loads a journal saved by <see cref="SaveForHandover"/> into this new, empty one: the same offsets, the same bytes,
    /// the same credit; past the memory bound the bytes go to a spill file.
    /// </summary>
    /// <exception cref="IOException">The saved bytes are fewer than the state says, or no spill file could hold them.</exception>
    internal void LoadFromHandover(JournalHandover state, Stream source)
    {
        ArgumentNullException.ThrowIfNull(state);
        long returned;
        lock (_gate)
        {
            var held = state.Length - state.Start;
            _start = _length = state.Start;
            if (held > _bounds.MemoryBytes)
            {
                if (!TrySpill())
                {
                    throw new IOException($"No spill file could hold the {held} bytes of output the engine before kept.");
                }
            }
            else if (held > 0)
            {
                GrowMemory(held);
            }

            var buffer = new byte[64 * 1024];
            while (_length < state.Length)
            {
                var n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, state.Length - _length));
                if (n <= 0)
                {
                    throw new IOException($"The saved output ended at offset {_length}; {state.Length} was expected.");
                }

                Write(_length, buffer.AsSpan(0, n));
                _length += n;
            }

            _consumed = state.Consumed;
            _granted = state.Granted;
            _sourceClosed = state.SourceClosed;
            _complete = state.Complete;
            returned = _complete ? ShrinkReservation() : 0;
        }

        if (returned > 0)
        {
            _budget?.Release(returned);
        }
    }
}
