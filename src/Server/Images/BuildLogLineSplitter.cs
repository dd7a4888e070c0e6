using System.Text;

namespace TypedSandbox.Server.Images;

/// <summary>
/// Turns a step's decoded output into build log lines: splits at <c>'\n'</c>, drops a trailing <c>'\r'</c>, and cuts a
/// line longer than <see cref="MaxLineChars"/> into pieces (never between the halves of a surrogate pair). Each
/// character is copied a bounded number of times, so time is linear in the output however long its lines are.
/// </summary>
internal sealed class BuildLogLineSplitter(IImageBuildLog log)
{
    /// <summary>The longest line the build log holds; longer output lines arrive as several lines.</summary>
    public const int MaxLineChars = 16 * 1024;

    private readonly StringBuilder _pending = new(256);

    /// <summary>Adds output; writes every line it completes.</summary>
    public void Append(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            var newline = text.IndexOf('\n');
            AppendSegment(newline < 0 ? text : text[..newline]);
            if (newline < 0)
            {
                return;
            }

            var length = _pending.Length > 0 && _pending[^1] == '\r' ? _pending.Length - 1 : _pending.Length;
            log.Write(_pending.ToString(0, length));
            _pending.Clear();
            text = text[(newline + 1)..];
        }
    }

    /// <summary>Writes what is left of an unterminated last line.</summary>
    public void Flush()
    {
        if (_pending.Length > 0)
        {
            log.Write(_pending.ToString());
            _pending.Clear();
        }
    }

    /// <summary>Splits <paramref name="line"/> into pieces of at most <see cref="MaxLineChars"/>, for writers that already have whole lines.</summary>
    public static IEnumerable<string> Pieces(string line)
    {
        var start = 0;
        while (line.Length - start > MaxLineChars)
        {
            var take = MaxLineChars;
            if (char.IsHighSurrogate(line[start + take - 1]))
            {
                take--;
            }

            yield return line.Substring(start, take);
            start += take;
        }

        yield return start == 0 ? line : line[start..];
    }

    private void AppendSegment(ReadOnlySpan<char> segment)
    {
        while (_pending.Length + segment.Length > MaxLineChars)
        {
            var take = MaxLineChars - _pending.Length;
            _pending.Append(segment[..take]);
            segment = segment[take..];
            WritePiece();
        }

        _pending.Append(segment);
    }

    private void WritePiece()
    {
        // A high surrogate at the cut moves to the next piece with its partner.
        var carry = _pending.Length > 1 && char.IsHighSurrogate(_pending[^1]);
        var last = _pending[^1];
        log.Write(_pending.ToString(0, carry ? _pending.Length - 1 : _pending.Length));
        _pending.Clear();
        if (carry)
        {
            _pending.Append(last);
        }
    }
}
