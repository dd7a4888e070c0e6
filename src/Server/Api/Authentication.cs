using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using TypedSandbox.Server.Auth;

namespace TypedSandbox.Server.Api;

/// <summary>
/// Checks every caller, also on loopback. Which check applies comes from the endpoint the call was routed to, never from
/// the spelling of its path (routing ignores letter case): the control plane needs the engine's token pair, the command
/// router a bearer JWT this engine minted for the task, and anything else is refused.
/// </summary>
internal sealed class Authentication(TokenAuthority tokens, EngineToken engineToken) : Interceptor
{
    /// <summary>The key under which the task a router token grants is stored in the call's user state.</summary>
    internal const string GrantedTaskKey = "typedsandbox.granted-task";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await CheckAsync(context).ConfigureAwait(false);
        return await continuation(request, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await CheckAsync(context).ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await CheckAsync(context).ConfigureAwait(false);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await CheckAsync(context).ConfigureAwait(false);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    private async Task CheckAsync(ServerCallContext context)
    {
        var service = context.GetHttpContext().GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.ServiceType;
        if (service == typeof(CommandRouterService))
        {
            var header = context.RequestHeaders.GetValue("authorization");
            if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "The command router needs 'authorization: Bearer <token>' from TaskGetCommandRouterAccess."));
            }

            var task = await tokens.ValidateRouterTokenAsync(header["Bearer ".Length..].Trim()).ConfigureAwait(false)
                ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "The command router token is invalid or expired; ask for a new one."));
            context.UserState[GrantedTaskKey] = task;
            return;
        }

        if (service == typeof(ControlPlaneService))
        {
            var id = context.RequestHeaders.GetValue("x-modal-token-id");
            var secret = context.RequestHeaders.GetValue("x-modal-token-secret");
            if (!engineToken.Matches(id, secret))
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated,
                    "Unknown token id or secret: use the engine's profile (MODAL_CONFIG_PATH=<state-dir>/modal.toml) or its token pair."));
            }

            return;
        }

        throw new RpcException(new Status(StatusCode.Unauthenticated, $"The method '{context.Method}' is not served here."));
    }

    /// <summary>Fails unless the router token of this call grants <paramref name="taskId"/>.</summary>
    internal static void RequireTask(ServerCallContext context, string taskId)
    {
        if (!context.UserState.TryGetValue(GrantedTaskKey, out var granted) || !string.Equals(granted as string, taskId, StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"The router token does not grant access to task '{taskId}'."));
        }
    }
}
