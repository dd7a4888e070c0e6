namespace TypedSandbox.Server.Sandboxes;

/// <summary>One line of a sandbox's system log.</summary>
/// <param name="At">When it happened.</param>
/// <param name="Text">The line, without its newline.</param>
internal sealed record SandboxLogEntry(DateTimeOffset At, string Text);

/// <summary>
/// A sandbox's system log (what <c>sb.logs</c> reports as source "system"): with <c>verbose</c> on create, one line per
/// exec started and finished and per filesystem operation. Kept in memory with the session, newest
/// <see cref="Capacity"/> lines.
/// </summary>
internal sealed class SandboxLog
{
    /// <summary>How many lines a sandbox keeps; older ones are dropped first.</summary>
    public const int Capacity = 10_000;
    private readonly Lock _gate = new();
    private readonly Queue<SandboxLogEntry> _entries = new();

    /// <summary>Appends a line.</summary>
    public void Add(DateTimeOffset at, string text)
    {
        lock (_gate)
        {
            if (_entries.Count == Capacity)
            {
                _entries.Dequeue();
            }

            _entries.Enqueue(new SandboxLogEntry(at, text));
        }
    }

    /// <summary>The lines in [<paramref name="since"/>, <paramref name="until"/>) that contain
    /// <paramref name="searchText"/> (when given), oldest first.</summary>
    public IReadOnlyList<SandboxLogEntry> Read(DateTimeOffset since, DateTimeOffset until, string? searchText)
    {
        lock (_gate)
        {
            return [.. _entries.Where(e => e.At >= since && e.At < until &&
                (string.IsNullOrEmpty(searchText) || e.Text.Contains(searchText, StringComparison.Ordinal)))];
        }
    }
}
