using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Api;

/// <summary>Maps engine failures to gRPC statuses in one place: expected ones keep their message, bugs become INTERNAL.</summary>
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

    private RpcException Map(Exception exception, ServerCallContext context)
    {
        switch (exception)
        {
            case EngineException engine:
                return new RpcException(new Status(ToStatusCode(engine.Kind), engine.Message));
            case ArgumentException:
                return new RpcException(new Status(StatusCode.InvalidArgument, exception.Message));
            case SandboxEndedException or ExecStartException:
                return new RpcException(new Status(StatusCode.FailedPrecondition, exception.Message));
            case HostNotReadyException or ContainerStartException:
                return new RpcException(new Status(StatusCode.Unavailable, exception.Message));
            case ImageException image:
                return new RpcException(new Status(ToStatusCode(image), exception.Message));
        }

        if (exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
        }

        LogUnexpected(exception, context.Method);
        return new RpcException(new Status(StatusCode.Internal, $"The engine failed unexpectedly: {exception.Message}"));
    }

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
        _ => StatusCode.Internal,
    };

    internal static StatusCode ToStatusCode(ImageException exception) => exception switch
    {
        InvalidImageDefinitionException => StatusCode.InvalidArgument,
        ImageNotFoundException => StatusCode.NotFound,
        ImageRegistryUnauthorizedException => StatusCode.PermissionDenied,
        ImageRegistryUnavailableException => StatusCode.Unavailable,
        ImageIntegrityException => StatusCode.DataLoss,
        ImageBuildFailedException => StatusCode.FailedPrecondition,
        _ => StatusCode.Internal,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure in {Method}")]
    private partial void LogUnexpected(Exception exception, string method);
}
