using Grpc.Core;

namespace TypedSandbox.Errors;

/// <summary>
/// The one place where gRPC status codes become TypedSandbox exceptions. Unary calls reach it through
/// <see cref="Transport.RetryPolicy"/>, output streams through <see cref="Transport.ResumableByteSource"/>, client streams
/// through <see cref="Transport.CommandRouter.SendStreamAsync"/>, build logs through the image service.
/// </summary>
internal static class RpcErrorMapper
{
    /// <summary>Maps a failed call to the exception the caller sees; the failure is its <see cref="Exception.InnerException"/>.</summary>
    /// <param name="error">The gRPC failure.</param>
    /// <param name="method">The RPC (or stream) name, used when the server sent no detail.</param>
    /// <param name="notFoundMessage">A clearer message for NOT_FOUND, when the caller knows what was looked up.</param>
    public static SandboxException Map(RpcException error, string method, string? notFoundMessage = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        var detail = string.IsNullOrWhiteSpace(error.Status.Detail)
            ? $"{method} failed with status {error.StatusCode}."
            : error.Status.Detail;
        return error.StatusCode switch
        {
            StatusCode.NotFound => new NotFoundException(notFoundMessage ?? detail, error),
            StatusCode.AlreadyExists => new AlreadyExistsException(detail, error),
            StatusCode.InvalidArgument or StatusCode.OutOfRange => new InvalidArgumentException(detail, error),
            StatusCode.FailedPrecondition or StatusCode.Aborted => new ConflictException(detail, error),
            StatusCode.ResourceExhausted => new ResourceExhaustedException(detail, error),
            StatusCode.DeadlineExceeded => new SandboxTimeoutException(detail, error),
            StatusCode.Unauthenticated or StatusCode.PermissionDenied => new SandboxAuthenticationException(detail, error),
            StatusCode.Unavailable => new SandboxUnavailableException($"{method}: the server is unavailable ({detail})", error),
            StatusCode.Unimplemented => new OperationNotSupportedException($"{method} is not supported by the server: {detail}", error),
            _ => new SandboxException($"{method} failed with status {error.StatusCode}: {detail}", error),
        };
    }

    /// <summary>
    /// True when a mapped failure means the sandbox (or its connection) is gone rather than that the operation was
    /// wrong: not found, unreachable, timed out, or a call the server ended (CANCELLED, UNKNOWN) — Modal's rule for
    /// filesystem operations.
    /// </summary>
    public static bool MeansSandboxGone(SandboxException error) =>
        error is NotFoundException or SandboxUnavailableException or SandboxTimeoutException
        || error.InnerException is RpcException { StatusCode: StatusCode.Cancelled or StatusCode.Unknown };
}
