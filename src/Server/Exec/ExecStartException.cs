namespace TypedSandbox.Server.Exec;

/// <summary>A process could not be started in the sandbox (executable not found, bad working directory...).</summary>
internal sealed class ExecStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ExecStartException() { }

    /// <summary>Creates the exception with the agent's message.</summary>
    public ExecStartException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public ExecStartException(string message, Exception inner) : base(message, inner) { }
}
