using TypedSandbox.Protocol.Client;

namespace TypedSandbox;

/// <summary>
/// A pseudo-terminal for a process (<see cref="ExecOptions.Pty"/>) or a sandbox's entrypoint
/// (<see cref="SandboxCreateOptions.Pty"/>), as Modal's <c>pty: true</c>. The process sees a terminal on stdin, stdout
/// and stderr (<c>test -t 1</c> is true); everything it prints arrives on stdout, with the terminal's line endings
/// (<c>\r\n</c>) and the echo of what is typed; <see cref="ContainerProcess.Stderr"/> stays empty. Writing 0x03 (Ctrl-C) to stdin
/// interrupts the foreground process (SIGINT); closing stdin sends end of input (Ctrl-D).
/// </summary>
public sealed record PtyOptions
{
    /// <summary>A 24×80 <c>xterm-256color</c> terminal, what Modal's SDKs ask for.</summary>
    public static PtyOptions Default { get; } = new();

    /// <summary>The window's height in rows (1 to 65535); 24 by default.</summary>
    public int Rows { get; init; } = 24;

    /// <summary>The window's width in columns (1 to 65535); 80 by default.</summary>
    public int Columns { get; init; } = 80;

    /// <summary>The process's <c>TERM</c>; <c>xterm-256color</c> by default.</summary>
    public string Term { get; init; } = "xterm-256color";

    /// <summary>The process's <c>COLORTERM</c>; <c>truecolor</c> by default, null for none.</summary>
    public string? ColorTerm { get; init; } = "truecolor";

    /// <summary>Validates the options and builds the protocol's terminal request.</summary>
    /// <exception cref="InvalidArgumentException">A dimension is out of range or <see cref="Term"/> is empty.</exception>
    internal PTYInfo ToProtocol()
    {
        CheckDimension(Rows, nameof(Rows));
        CheckDimension(Columns, nameof(Columns));
        if (string.IsNullOrWhiteSpace(Term))
        {
            throw new InvalidArgumentException("The terminal's Term must name a terminal type (for example xterm-256color).");
        }

        return new PTYInfo
        {
            Enabled = true,
            WinszRows = (uint)Rows,
            WinszCols = (uint)Columns,
            EnvTerm = Term,
            EnvColorterm = ColorTerm ?? "",
            PtyType = PTYInfo.Types.PTYType.Shell,
            NoTerminateOnIdleStdin = true,
        };
    }

    private static void CheckDimension(int value, string name)
    {
        if (value is < 1 or > ushort.MaxValue)
        {
            throw new InvalidArgumentException($"The terminal's {name} is {value}; use 1 to {ushort.MaxValue}.");
        }
    }
}
