namespace TypedSandbox.Server.Engine;

/// <summary>What kind of failure an engine operation had; the API layer maps it to a gRPC status code.</summary>
internal enum EngineErrorKind
{
    /// <summary>The request is malformed or breaks a rule (a bad name, a timeout out of range).</summary>
    InvalidArgument,
    /// <summary>The object the request names does not exist.</summary>
    NotFound,
    /// <summary>The object already exists (a sandbox name in use).</summary>
    AlreadyExists,
    /// <summary>The object is in the wrong state for the operation (a finished sandbox).</summary>
    FailedPrecondition,
    /// <summary>A dependency of the engine is missing or unreachable (OCI runtime, registry).</summary>
    Unavailable,
    /// <summary>The caller did not prove who it is.</summary>
    Unauthenticated,
    /// <summary>The caller is known but may not do this.</summary>
    PermissionDenied,
    /// <summary>A limit of the engine was reached.</summary>
    ResourceExhausted,
    /// <summary>Content was corrupt or unsafe (a layer whose digest or size did not match).</summary>
    DataLoss,
    /// <summary>A bug or an unexpected failure of the engine itself.</summary>
    Internal,
}

/// <summary>
/// An expected failure of an engine operation, with a message meant for the person who made the request. The core's
/// own failures (a sandbox that ended, a runtime that could not start it, image errors...) are subclasses carrying
/// their kind, so the API layer maps one type by <see cref="Kind"/>.
/// </summary>
internal class EngineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EngineException(EngineErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    /// <summary>The kind of failure.</summary>
    public EngineErrorKind Kind { get; }

    internal static EngineException Invalid(string message) => new(EngineErrorKind.InvalidArgument, message);
    internal static EngineException NotFound(string message) => new(EngineErrorKind.NotFound, message);
    internal static EngineException Precondition(string message) => new(EngineErrorKind.FailedPrecondition, message);
}
