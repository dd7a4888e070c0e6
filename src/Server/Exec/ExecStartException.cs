using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Exec;

/// <summary>A process could not be started in the sandbox (executable not found, bad working directory...).</summary>
internal sealed class ExecStartException : EngineException
{
    /// <summary>Creates the exception.</summary>
    public ExecStartException() : base(EngineErrorKind.FailedPrecondition, "The process could not be started.") { }

    /// <summary>Creates the exception with the agent's message.</summary>
    public ExecStartException(string message) : base(EngineErrorKind.FailedPrecondition, message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public ExecStartException(string message, Exception inner) : base(EngineErrorKind.FailedPrecondition, message, inner) { }
}
