using TypedSandbox.Agent.Protocol;

namespace TypedSandbox.Server.Exec;

/// <summary>
/// A pseudo-terminal for a process: its window, in character cells, and the terminal its programs are told they talk
/// to. The process's stdin, stdout and stderr are the terminal; everything it prints arrives as stdout.
/// </summary>
internal sealed record TerminalSettings(ushort Rows, ushort Columns, string Term, string? ColorTerm = null, string? TermProgram = null)
{
    /// <summary>The window Modal's SDKs ask for.</summary>
    public const ushort DefaultRows = 24, DefaultColumns = 80;

    /// <summary>TERM when the request names none.</summary>
    public const string DefaultTerm = "xterm-256color";

    /// <summary>The window as the agent's protocol carries it.</summary>
    public TerminalSize Size => new(Rows, Columns);

    /// <summary>TERM, COLORTERM and TERM_PROGRAM, as far as they are set.</summary>
    public IEnumerable<KeyValuePair<string, string>> Environment()
    {
        yield return new("TERM", Term);
        if (!string.IsNullOrEmpty(ColorTerm))
        {
            yield return new("COLORTERM", ColorTerm);
        }

        if (!string.IsNullOrEmpty(TermProgram))
        {
            yield return new("TERM_PROGRAM", TermProgram);
        }
    }
}
