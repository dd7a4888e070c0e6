namespace TypedSandbox.Server.Images;

/// <summary>
/// The part of a build's log the engine keeps for <c>ImageJoinStreaming</c>: the newest lines up to a character budget.
/// Lines keep their absolute numbers (the entry ids clients resume from); a reader that asks for lines already dropped
/// gets one marker line saying how many were dropped, then everything still kept. Not thread-safe: the owner locks.
/// </summary>
/// <remarks>
/// A bounded window in memory rather than a spill file: a build log is diagnostics whose tail is what matters, a live
/// follower still sees every line, and nothing is left on disk when the engine dies mid-build.
/// </remarks>
internal sealed class BuildLogWindow(int maxChars)
{
    private readonly List<string> _lines = [];
    private int _head;
    private long _first;
    private long _chars;
    private bool _released;

    /// <summary>How many lines were ever written (the number the next line gets).</summary>
    public long Count => _first + (_lines.Count - _head);

    /// <summary>Characters currently kept.</summary>
    public long RetainedChars => _chars;

    /// <summary>Appends a line (at most <see cref="BuildLogLineSplitter.MaxLineChars"/> long), dropping the oldest lines over budget.</summary>
    public void Add(string line)
    {
        if (_released)
        {
            _first++;
            return;
        }

        _lines.Add(line);
        _chars += line.Length;
        while (_chars > maxChars && _lines.Count - _head > 1)
        {
            _chars -= _lines[_head].Length;
            _lines[_head++] = null!;
            _first++;
        }

        // Amortised O(1): the dropped prefix is cut off once it is half the list.
        if (_head > 1024 && _head > _lines.Count / 2)
        {
            _lines.RemoveRange(0, _head);
            _head = 0;
        }
    }

    /// <summary>Drops every kept line (the build ended long enough ago); later reads get only a marker.</summary>
    public void Release()
    {
        _first = Count;
        _lines.Clear();
        _head = 0;
        _chars = 0;
        _released = true;
    }

    /// <summary>The lines from <paramref name="start"/> on (a marker first when some of them were dropped) and the number of the next line.</summary>
    public (IReadOnlyList<string> Lines, long Next) Read(long start)
    {
        start = Math.Max(start, 0); // an entry id near long.MaxValue wraps when the caller adds one
        var count = Count;
        if (start >= count)
        {
            return ([], start);
        }

        var from = Math.Max(start, _first);
        var result = new List<string>((int)(count - from) + 1);
        if (start < _first)
        {
            result.Add(_released
                ? $"[{_first - start} line(s) of build output are no longer kept by the engine]"
                : $"[{_first - start} earlier line(s) of build output were dropped; the engine keeps the last {maxChars / 1024} Ki characters]");
        }

        for (var i = _head + (int)(from - _first); i < _lines.Count; i++)
        {
            result.Add(_lines[i]);
        }

        return (result, count);
    }
}
