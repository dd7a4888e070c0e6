using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Images;

/// <summary>Base type of every image error; each subclass names its <see cref="EngineErrorKind"/>.</summary>
internal abstract class ImageException : EngineException
{
    /// <summary>Creates the exception.</summary>
    protected ImageException(EngineErrorKind kind, string message, Exception? innerException = null)
        : base(kind, message, innerException)
    {
    }
}

/// <summary>The image definition is malformed or uses an unsupported command (maps to INVALID_ARGUMENT).</summary>
internal class InvalidImageDefinitionException : ImageException
{
    /// <summary>Creates the exception.</summary>
    public InvalidImageDefinitionException(string message, Exception? innerException = null)
        : base(EngineErrorKind.InvalidArgument, message, innerException)
    {
    }
}

/// <summary>An image reference has bad syntax (maps to INVALID_ARGUMENT).</summary>
internal sealed class InvalidImageReferenceException : InvalidImageDefinitionException
{
    /// <summary>Creates the exception for <paramref name="reference"/> with the reason it was refused.</summary>
    public InvalidImageReferenceException(string reference, string reason)
        : base($"Invalid image reference '{reference}': {reason}.")
    {
        Reference = reference;
    }

    /// <summary>The reference as written.</summary>
    public string Reference { get; }
}

/// <summary>The image (or an image ID used in <c>FROM</c>) does not exist (maps to NOT_FOUND).</summary>
internal sealed class ImageNotFoundException : ImageException
{
    /// <summary>Creates the exception.</summary>
    public ImageNotFoundException(string reference, string message, Exception? innerException = null)
        : base(EngineErrorKind.NotFound, message, innerException)
    {
        Reference = reference;
    }

    /// <summary>The reference or image ID that was not found.</summary>
    public string Reference { get; }
}

/// <summary>The registry refused access to the image (maps to PERMISSION_DENIED).</summary>
internal sealed class ImageRegistryUnauthorizedException : ImageException
{
    /// <summary>Creates the exception.</summary>
    public ImageRegistryUnauthorizedException(string reference, string message)
        : base(EngineErrorKind.PermissionDenied, message)
    {
        Reference = reference;
    }

    /// <summary>The reference whose access was refused.</summary>
    public string Reference { get; }
}

/// <summary>The registry could not be reached or failed (maps to UNAVAILABLE).</summary>
internal sealed class ImageRegistryUnavailableException : ImageException
{
    /// <summary>Creates the exception.</summary>
    public ImageRegistryUnavailableException(string message, Exception? innerException = null)
        : base(EngineErrorKind.Unavailable, message, innerException)
    {
    }
}

/// <summary>Downloaded content did not match its digest or size, or a layer was unsafe (maps to DATA_LOSS).</summary>
internal sealed class ImageIntegrityException : ImageException
{
    /// <summary>Creates the exception.</summary>
    public ImageIntegrityException(string message, Exception? innerException = null)
        : base(EngineErrorKind.DataLoss, message, innerException)
    {
    }
}

/// <summary>A build step failed: a <c>RUN</c> command exited non-zero, or a local base build failed (maps to FAILED_PRECONDITION).</summary>
internal sealed class ImageBuildFailedException : ImageException
{
    /// <summary>Creates the exception.</summary>
    public ImageBuildFailedException(string step, int exitCode, IReadOnlyList<string> logTail, string message)
        : base(EngineErrorKind.FailedPrecondition, message)
    {
        Step = step;
        ExitCode = exitCode;
        LogTail = logTail;
    }

    /// <summary>The Dockerfile command that failed.</summary>
    public string Step { get; }

    /// <summary>The step's exit code.</summary>
    public int ExitCode { get; }

    /// <summary>The last lines the step wrote to the build log.</summary>
    public IReadOnlyList<string> LogTail { get; }
}
