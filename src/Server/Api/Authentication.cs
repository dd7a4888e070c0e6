using Grpc.Core;
using Grpc.Core.Interceptors;
using TypedSandbox.Server.Auth;
using TypedSandbox.Server.Hosting;

namespace TypedSandbox.Server.Api;

/// <summary>
/// Checks callers. Control plane: on loopback any token pair is accepted (Modal's SDKs insist on sending one);
/// bound elsewhere, the configured pair is required. Command router: a bearer JWT minted by this engine for the task.
/// </summary>
internal sealed class Authentication(TokenAuthority tokens, EngineOptions options) : Interceptor
{
    /// <summary>The key under which the task a router token grants is stored in the call's user state.</summary>
    internal const string GrantedTaskKey = "typedsandbox.granted-task";
    private const string RouterPrefix = "/modal.task_command_router.";

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

    private async Task CheckAsync(ServerCallContext context)
    {
        if (context.Method.StartsWith(RouterPrefix, StringComparison.Ordinal))
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

        if (options.RequireCredentials)
        {
            var id = context.RequestHeaders.GetValue("x-modal-token-id");
            var secret = context.RequestHeaders.GetValue("x-modal-token-secret");
            if (id != options.TokenId || secret != options.TokenSecret)
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "Unknown token id or secret: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET to the engine's token pair."));
            }
        }
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
