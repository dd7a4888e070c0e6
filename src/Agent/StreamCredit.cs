namespace TypedSandbox.Agent;

/// <summary>
/// How many bytes of one output stream the engine lets the agent send: the pump reads a child's pipe only while it
/// has credit, so a child whose output nobody reads blocks on write instead of filling the engine's disk.
/// </summary>
internal sealed class StreamCredit(long limit)
{
    private readonly object _gate = new();
    private long _limit = limit <= 0 ? long.MaxValue : limit;
    private long _sent;

    /// <summary>Waits until some credit is left; returns how many bytes (at most <paramref name="wanted"/>) may be read.</summary>
    public int WaitForRoom(int wanted)
    {
        lock (_gate)
        {
            while (_sent >= _limit)
            {
                Monitor.Wait(_gate);
            }

            return (int)Math.Min(wanted, _limit - _sent);
        }
    }

    /// <summary>Counts bytes sent to the engine.</summary>
    public void Sent(long bytes)
    {
        lock (_gate)
        {
            _sent += bytes;
        }
    }

    /// <summary>The engine's new total allowance (absolute, so a late or repeated grant never shrinks it).</summary>
    public void Raise(long limit)
    {
        lock (_gate)
        {
            if (limit <= _limit)
            {
                return;
            }

            _limit = limit;
            Monitor.PulseAll(_gate);
        }
    }
}
