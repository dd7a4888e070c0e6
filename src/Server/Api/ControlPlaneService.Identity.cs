using Grpc.Core;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Tunnels;

namespace TypedSandbox.Server.Api;

/// <summary>The control plane's sandbox identity RPCs: names set on a running sandbox, connect tokens.</summary>
internal sealed partial class ControlPlaneService
{
    public override async Task<SandboxSetNameResponse> SandboxSetName(SandboxSetNameRequest request, ServerCallContext context)
    {
        await sandboxes.Catalog.SetNameAsync(request.SandboxId, request.Name, context.CancellationToken).ConfigureAwait(false);
        return new SandboxSetNameResponse();
    }

    public override Task<SandboxCreateConnectTokenResponse> SandboxCreateConnectToken(SandboxCreateConnectTokenRequest request, ServerCallContext context) =>
        CreateConnectTokenAsync(request, context);

    public override Task<SandboxCreateConnectTokenResponse> SandboxCreateConnectTokenV2(SandboxCreateConnectTokenRequest request, ServerCallContext context) =>
        CreateConnectTokenAsync(request, context);

    private async Task<SandboxCreateConnectTokenResponse> CreateConnectTokenAsync(SandboxCreateConnectTokenRequest request, ServerCallContext context)
    {
        var session = await sandboxes.GetStartedAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false);
        var port = request.HasPort ? (int)request.Port : ConnectTokens.DefaultPort;
        var (url, token) = connectTokens.Issue(session, port, request.UserMetadata);
        return new SandboxCreateConnectTokenResponse { Url = url, Token = token };
    }
}
