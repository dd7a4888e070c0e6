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
        Task.FromResult(CreateConnectToken(request));

    public override Task<SandboxCreateConnectTokenResponse> SandboxCreateConnectTokenV2(SandboxCreateConnectTokenRequest request, ServerCallContext context) =>
        Task.FromResult(CreateConnectToken(request));

    private SandboxCreateConnectTokenResponse CreateConnectToken(SandboxCreateConnectTokenRequest request)
    {
        var session = sandboxes.Get(request.SandboxId);
        var port = request.HasPort ? (int)request.Port : ConnectTokens.DefaultPort;
        var (url, token) = connectTokens.Issue(session, port, request.UserMetadata);
        return new SandboxCreateConnectTokenResponse { Url = url, Token = token };
    }
}
