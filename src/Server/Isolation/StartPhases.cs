using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Where a sandbox's start spent its time, phase by phase ("storage 0.2 ms, overlay 1.1 ms, …"), for the debug log
/// line of each start: the first thing to read when creates get slower.
/// </summary>
internal sealed class StartPhases
{
    private readonly StringBuilder _laps = new();
    private long _last = Stopwatch.GetTimestamp();
    private readonly long _start;

    public StartPhases() => _start = _last;

    /// <summary>Ends the current phase under <paramref name="name"/> and starts the next.</summary>
    public void Lap(string name)
    {
        var now = Stopwatch.GetTimestamp();
        if (_laps.Length > 0)
        {
            _laps.Append(", ");
        }

        _laps.Append(name).Append(' ')
            .Append(Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)).Append(" ms");
        _last = now;
    }

    /// <summary>Milliseconds since the start.</summary>
    public double TotalMilliseconds => Stopwatch.GetElapsedTime(_start).TotalMilliseconds;

    public override string ToString() => _laps.ToString();
}
