namespace TypedSandbox.Server.Exec;

/// <summary>The sandbox ended (terminated, its entrypoint exited, or its agent died) while an operation needed it.</summary>
internal sealed class SandboxEndedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SandboxEndedException() : base("The sandbox has ended.") { }

    /// <summary>Creates the exception with a message.</summary>
    public SandboxEndedException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public SandboxEndedException(string message, Exception inner) : base(message, inner) { }
}
