namespace TypedSandbox.Server.Processes;

/// <summary>The last lines of a process's output (thread-safe, bounded in lines and in line length).</summary>
internal sealed class OutputTail(int maxLines)
{
    /// <summary>
    /// Longer lines are cut to their first and last halves of this, joined by " … ": the start names what failed and
    /// the end says why ("cp: cannot create directory '…': File name too long").
    /// </summary>
    public const int MaxLineLength = 4096;

    private readonly Queue<string> _lines = new();

    public void Add(string line)
    {
        var kept = line.Length > MaxLineLength ? $"{line[..(MaxLineLength / 2)]} … {line[^(MaxLineLength / 2)..]}" : line;
        lock (_lines)
        {
            _lines.Enqueue(kept);
            while (_lines.Count > maxLines)
            {
                _lines.Dequeue();
            }
        }
    }

    /// <summary>The lines kept, oldest first.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>The lines kept, one per line.</summary>
    public override string ToString() => string.Join('\n', Lines);
}
