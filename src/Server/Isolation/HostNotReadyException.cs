using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Isolation;

/// <summary>The host cannot run sandboxes; <see cref="Problems"/> says what is missing and how to fix it.</summary>
internal sealed class HostNotReadyException : EngineException
{
    /// <summary>Creates the exception.</summary>
    public HostNotReadyException() : this([]) { }

    /// <summary>Creates the exception with a message.</summary>
    public HostNotReadyException(string message) : this([message]) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public HostNotReadyException(string message, Exception inner) : base(EngineErrorKind.Unavailable, message, inner) => Problems = [message];

    /// <summary>Creates the exception listing every problem found.</summary>
    public HostNotReadyException(IReadOnlyList<string> problems)
        : base(EngineErrorKind.Unavailable, "The host cannot run sandboxes:" + string.Concat(problems.Select(p => Environment.NewLine + "  - " + p))) =>
        Problems = problems;

    /// <summary>Each problem with its fix.</summary>
    public IReadOnlyList<string> Problems { get; }
}
