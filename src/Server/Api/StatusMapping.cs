using Grpc.Core;
using Grpc.Core.Interceptors;
using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Api;

/// <summary>
/// The engine's one error path: every failure of a call becomes its gRPC status here. Expected ones (the engine's own
/// kinds) keep their message; anything else is a bug and becomes INTERNAL with an error id, never INVALID_ARGUMENT.
/// </summary>
internal sealed partial class StatusMapping(ILogger<StatusMapping> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not RpcException)
        {
            throw Map(exception, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not RpcException)
        {
            throw Map(exception, context);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not RpcException)
        {
            throw Map(exception, context);
        }
    }

    private RpcException Map(Exception exception, ServerCallContext context) =>
        ToRpcException(exception, context.CancellationToken.IsCancellationRequested, context.Method, logger);

    /// <summary>
    /// The status a failure reaches the caller with: the engine's own kinds keep their message; a cancelled call is
    /// CANCELLED; anything else is a bug, INTERNAL, logged at Error under an id the message names (never the caller's fault).
    /// </summary>
    internal static RpcException ToRpcException(Exception exception, bool callCancelled, string method, ILogger logger)
    {
        if (ToStatusCode(exception) is { } code)
        {
            return new RpcException(new Status(code, exception.Message));
        }

        if (exception is OperationCanceledException && callCancelled)
        {
            return new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
        }

        var correlationId = Guid.NewGuid().ToString("N")[..12];
        LogUnexpected(logger, exception, method, correlationId);
        return new RpcException(new Status(
            StatusCode.Internal, $"The engine failed unexpectedly (error id {correlationId}; the engine log has the details): {exception.Message}"));
    }

    /// <summary>The status of an expected failure of the engine, or null for one it did not expect.</summary>
    internal static StatusCode? ToStatusCode(Exception exception) => exception is EngineException engine ? ToStatusCode(engine.Kind) : null;

    internal static StatusCode ToStatusCode(EngineErrorKind kind) => kind switch
    {
        EngineErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        EngineErrorKind.NotFound => StatusCode.NotFound,
        EngineErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        EngineErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        EngineErrorKind.Unavailable => StatusCode.Unavailable,
        EngineErrorKind.Unauthenticated => StatusCode.Unauthenticated,
        EngineErrorKind.PermissionDenied => StatusCode.PermissionDenied,
        EngineErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        EngineErrorKind.DataLoss => StatusCode.DataLoss,
        _ => StatusCode.Internal,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure in {Method} (error id {CorrelationId})")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string correlationId);
}
