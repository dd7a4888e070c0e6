namespace TypedSandbox.Server.Exec;

/// <summary>A process to run in a sandbox (an exec or the entrypoint).</summary>
/// <param name="Args">argv; the first element is looked up in PATH when it has no '/'.</param>
internal sealed record ProcessSpec(IReadOnlyList<string> Args)
{
    /// <summary>Environment added on top of the image's and the sandbox's.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Working directory; null = the sandbox's.</summary>
    public string? Workdir { get; init; }

    /// <summary>Kill the process after this long and report <see cref="ProcessExit.TimedOut"/>; null = no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Send stdout to /dev/null; the journal stays empty.</summary>
    public bool DiscardStdout { get; init; }

    /// <summary>Send stderr to /dev/null; the journal stays empty.</summary>
    public bool DiscardStderr { get; init; }

    /// <summary>Run on a new pseudo-terminal; null = plain pipes. All output then arrives as stdout.</summary>
    public TerminalSettings? Terminal { get; init; }
}
