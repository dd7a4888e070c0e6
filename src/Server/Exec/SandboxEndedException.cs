using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Exec;

/// <summary>The sandbox ended (terminated, its entrypoint exited, or its agent died) while an operation needed it.</summary>
internal sealed class SandboxEndedException : EngineException
{
    /// <summary>Creates the exception.</summary>
    public SandboxEndedException() : base(EngineErrorKind.FailedPrecondition, "The sandbox has ended.") { }

    /// <summary>Creates the exception with a message.</summary>
    public SandboxEndedException(string message) : base(EngineErrorKind.FailedPrecondition, message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public SandboxEndedException(string message, Exception inner) : base(EngineErrorKind.FailedPrecondition, message, inner) { }
}
