using Grpc.Core;

namespace TypedSandbox.Errors;

/// <summary>The one place where gRPC status codes become TypedSandbox exceptions.</summary>
internal static class RpcErrorMapper
{
    /// <summary>Maps a failed call to the exception the caller sees.</summary>
    /// <param name="error">The gRPC failure.</param>
    /// <param name="method">The RPC name, used when the server sent no detail.</param>
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

    /// <summary>True for the codes Modal's SDKs retry on both planes.</summary>
    public static bool IsRetryable(StatusCode code) => code is StatusCode.DeadlineExceeded or StatusCode.Unavailable
        or StatusCode.Cancelled or StatusCode.Internal or StatusCode.Unknown;
}
