namespace TypedSandbox;

/// <summary>Base class of every error raised by the TypedSandbox client.</summary>
/// <remarks>Errors reported by the server are mapped to the subclasses in one place; the original gRPC failure,
/// when there is one, is the <see cref="Exception.InnerException"/>.</remarks>
public class SandboxException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public SandboxException() { }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public SandboxException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and the failure that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying failure.</param>
    public SandboxException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The client configuration (options, <c>MODAL_*</c> variables or the config file) is missing or malformed.</summary>
public sealed class SandboxConfigurationException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public SandboxConfigurationException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public SandboxConfigurationException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public SandboxConfigurationException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The requested object (app, image, secret, volume, sandbox, file) does not exist.</summary>
public sealed class NotFoundException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public NotFoundException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public NotFoundException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public NotFoundException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>An object with the same identity already exists (for example a running sandbox with the same name).</summary>
public sealed class AlreadyExistsException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public AlreadyExistsException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public AlreadyExistsException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public AlreadyExistsException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A value passed to the client or the server is not valid (Modal's <c>InvalidError</c>).</summary>
public sealed class InvalidArgumentException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public InvalidArgumentException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public InvalidArgumentException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public InvalidArgumentException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The operation conflicts with the current state of the object (Modal's <c>ConflictError</c>).</summary>
public class ConflictException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public ConflictException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public ConflictException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public ConflictException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The sandbox has already finished (terminated, timed out or exited), so it cannot run the operation.</summary>
public sealed class SandboxTerminatedException : ConflictException
{
    /// <summary>Creates an exception with no message.</summary>
    public SandboxTerminatedException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public SandboxTerminatedException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public SandboxTerminatedException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The server has no capacity (or quota) left for the request.</summary>
public sealed class ResourceExhaustedException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public ResourceExhaustedException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public ResourceExhaustedException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public ResourceExhaustedException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A sandbox operation (or a call to the server) did not finish in the time allowed.</summary>
public sealed class SandboxTimeoutException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public SandboxTimeoutException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public SandboxTimeoutException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public SandboxTimeoutException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A process started with <see cref="ExecOptions.Timeout"/> ran past its deadline.</summary>
public sealed class ExecTimeoutException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public ExecTimeoutException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public ExecTimeoutException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public ExecTimeoutException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates an exception for a process killed at its timeout, with the output it wrote until then.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="result">Exit code 137 and the output so far.</param>
    public ExecTimeoutException(string message, ExecResult result) : base(message) => Result = result;

    /// <summary>The output the process wrote before it was killed, when known.</summary>
    public ExecResult? Result { get; }
}

/// <summary>A command's stdout is not what its declared result type needs (for example not valid JSON for it).</summary>
public sealed class ExecOutputException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public ExecOutputException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public ExecOutputException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public ExecOutputException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A process run with <see cref="Sandbox.RunAsync"/> exited with a non-zero code and the caller asked for success.</summary>
public sealed class ExecFailedException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public ExecFailedException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public ExecFailedException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public ExecFailedException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates an exception for a failed run.</summary>
    /// <param name="result">The result of the run.</param>
    public ExecFailedException(ExecResult result)
        : base(DescribeFailure(result)) => Result = result;

    /// <summary>The result of the failed run, when the exception was created from one.</summary>
    public ExecResult? Result { get; }

    private static string DescribeFailure(ExecResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var stderr = result.Stderr.Length > 2000 ? result.Stderr[^2000..] : result.Stderr;
        return string.IsNullOrWhiteSpace(stderr)
            ? $"The process exited with code {result.ExitCode}."
            : $"The process exited with code {result.ExitCode}: {stderr.TrimEnd()}";
    }
}

/// <summary>The server rejected the client's credentials (UNAUTHENTICATED or PERMISSION_DENIED).</summary>
public sealed class SandboxAuthenticationException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public SandboxAuthenticationException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public SandboxAuthenticationException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public SandboxAuthenticationException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The server could not be reached, or kept failing after the client's retries.</summary>
public sealed class SandboxUnavailableException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public SandboxUnavailableException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public SandboxUnavailableException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public SandboxUnavailableException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>An image build failed, was terminated or timed out.</summary>
public sealed class ImageBuildException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public ImageBuildException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public ImageBuildException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public ImageBuildException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The server does not implement the requested operation.</summary>
public sealed class OperationNotSupportedException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public OperationNotSupportedException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public OperationNotSupportedException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public OperationNotSupportedException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// The server (or a tool the protocol runs in the sandbox) answered with something the protocol does not allow: a
/// missing field, an unknown status, output that does not parse. Not the caller's fault; usually a client and a
/// server that do not speak the same version of the protocol.
/// </summary>
public sealed class ProtocolException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public ProtocolException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public ProtocolException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public ProtocolException(string message, Exception? innerException) : base(message, innerException) { }
}
