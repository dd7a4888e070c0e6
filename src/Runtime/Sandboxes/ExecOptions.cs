namespace TypedSandbox;

/// <summary>What happens to a process's output stream.</summary>
public enum StdioMode
{
    /// <summary>The output is kept and can be read from <see cref="ContainerProcess.Stdout"/> or <see cref="ContainerProcess.Stderr"/>.</summary>
    Pipe,

    /// <summary>The output is discarded in the sandbox.</summary>
    Ignore,
}

/// <summary>Options for <see cref="Sandbox.ExecAsync"/>.</summary>
public sealed record ExecOptions
{
    /// <summary>Kill the process after this long (whole seconds). After it, waits and reads fail with
    /// <see cref="ExecTimeoutException"/>. Unbounded by default (the sandbox's own timeout still applies).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The working directory (absolute); defaults to the sandbox's.</summary>
    public string? Workdir { get; init; }

    /// <summary>Environment variables for this process.</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Secrets whose values become environment variables of this process.</summary>
    public IReadOnlyList<Secret>? Secrets { get; init; }

    /// <summary>Whether stdout is kept (default) or discarded.</summary>
    public StdioMode Stdout { get; init; } = StdioMode.Pipe;

    /// <summary>Whether stderr is kept (default) or discarded.</summary>
    public StdioMode Stderr { get; init; } = StdioMode.Pipe;

    /// <summary>Run the process on a pseudo-terminal (Modal's <c>pty: true</c>): <see cref="PtyOptions.Default"/> or a
    /// window of your size. All its output then arrives on stdout. Null (default): plain pipes.</summary>
    public PtyOptions? Pty { get; init; }
}

/// <summary>The outcome of a process run to completion with its output buffered.</summary>
/// <param name="ExitCode">The exit code; 128 + n when the process was killed by signal n.</param>
/// <param name="Stdout">Everything the process wrote to stdout (UTF-8).</param>
/// <param name="Stderr">Everything the process wrote to stderr (UTF-8).</param>
public sealed record ExecResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>True when the process exited with code 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>Returns this result when the process succeeded; otherwise throws.</summary>
    /// <exception cref="ExecFailedException">The exit code is not 0.</exception>
    public ExecResult EnsureSuccess() => Succeeded ? this : throw new ExecFailedException(this);
}
