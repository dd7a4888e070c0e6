using System.Text;

namespace TypedSandbox;

/// <summary>Cuts build log chunks into whole lines (a chunk may end inside a line), dropping <c>'\r'</c> and empty lines.</summary>
internal sealed class BuildLogLines(Action<string> onLine)
{
    private readonly StringBuilder _partial = new();

    public void Append(string chunk)
    {
        var start = 0;
        for (var newline = chunk.IndexOf('\n', start); newline >= 0; newline = chunk.IndexOf('\n', start))
        {
            _partial.Append(chunk, start, newline - start);
            Emit();
            start = newline + 1;
        }

        _partial.Append(chunk, start, chunk.Length - start);
    }

    /// <summary>Reports the last line when the log did not end with a newline.</summary>
    public void Flush() => Emit();

    private void Emit()
    {
        var line = _partial.ToString().TrimEnd('\r');
        _partial.Clear();
        if (line.Length > 0)
        {
            onLine(line);
        }
    }
}
