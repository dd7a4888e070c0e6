namespace TypedSandbox.Server.Processes;

/// <summary>
/// How <see cref="HostProcesses"/> starts one host process: an executable and its argument list (never a shell
/// string), what it reads, how much of its output is kept, and when it is killed.
/// </summary>
/// <param name="File">The executable (a name looked up in PATH, or a path).</param>
/// <param name="Arguments">Its arguments, passed as they are.</param>
internal sealed record HostProcessStart(string File, IReadOnlyList<string> Arguments)
{
    /// <summary>The most stdout kept by a run, in characters; what comes after is read and dropped.</summary>
    public const int DefaultStdoutLimit = 1 << 20;

    /// <summary>The stderr lines kept (the last ones).</summary>
    public const int DefaultStderrLines = 40;

    /// <summary>Written to its stdin, which is then closed (a run only; a started process's stdin is the caller's).</summary>
    public string? Stdin { get; init; }

    /// <summary>Killed (and reaped) when it runs longer; null = no limit but the cancellation token.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>True: a kill ends its whole process tree, not only the process itself.</summary>
    public bool KillTree { get; init; }

    /// <summary>The most stdout characters a run keeps.</summary>
    public int StdoutLimit { get; init; } = DefaultStdoutLimit;

    /// <summary>The stderr lines kept, the last ones (each cut at <see cref="OutputTail.MaxLineLength"/> characters).</summary>
    public int StderrLines { get; init; } = DefaultStderrLines;

    /// <summary>Variables added to (or replacing) the engine's environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Called with every line of output as it arrives (stdout of a run, and stderr), e.g. to forward a build log.</summary>
    public Action<string>? OnLine { get; init; }

    /// <summary>Where a failure (start error, non-zero exit, timeout) is logged with the stderr tail; null = not logged.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>The command line as logs and messages show it.</summary>
    public override string ToString() => Arguments.Count == 0 ? File : File + " " + string.Join(' ', Arguments);
}
