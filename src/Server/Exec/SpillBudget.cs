namespace TypedSandbox.Server.Exec;

/// <summary>The engine-wide allowance of output spill files: a stream reserves its whole spill file before creating it.</summary>
internal sealed class SpillBudget(long bytes)
{
    private long _available = bytes;

    /// <summary>Bytes not reserved now.</summary>
    public long Available => Interlocked.Read(ref _available);

    /// <summary>Reserves <paramref name="bytes"/>; false (and nothing reserved) when fewer are left.</summary>
    public bool TryReserve(long bytes)
    {
        while (true)
        {
            var available = Interlocked.Read(ref _available);
            if (available < bytes)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _available, available - bytes, available) == available)
            {
                return true;
            }
        }
    }

    /// <summary>Gives back what <see cref="TryReserve"/> took.</summary>
    public void Release(long bytes) => Interlocked.Add(ref _available, bytes);
}
