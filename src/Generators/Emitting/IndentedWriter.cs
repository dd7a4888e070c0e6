using System;
using System.Text;

namespace TypedSandbox.Generators.Emitting;

/// <summary>Writes C# text line by line at the current indentation (four spaces a level, '\n' line ends).</summary>
internal sealed class IndentedWriter
{
    private readonly StringBuilder _builder = new();
    private int _depth;

    /// <summary>Writes one line (an empty line carries no indentation).</summary>
    public IndentedWriter Line(string text = "")
    {
        if (text.Length > 0)
        {
            _builder.Append(' ', _depth * 4);
        }

        _builder.Append(text).Append('\n');
        return this;
    }

    /// <summary>Writes several lines (a raw string literal), each at the current indentation.</summary>
    public IndentedWriter Lines(string text)
    {
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            Line(line);
        }

        return this;
    }

    /// <summary>Opens a brace block; close it with <see cref="Close"/>.</summary>
    public IndentedWriter Open(string brace = "{")
    {
        Line(brace);
        _depth++;
        return this;
    }

    /// <summary>Closes the innermost brace block.</summary>
    public IndentedWriter Close(string brace = "}")
    {
        if (_depth == 0)
        {
            throw new InvalidOperationException("No block is open.");
        }

        _depth--;
        return Line(brace);
    }

    public override string ToString() => _builder.ToString();
}
