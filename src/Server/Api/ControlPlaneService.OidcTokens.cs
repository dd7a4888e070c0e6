using Grpc.Core;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Identity;
using TypedSandbox.Server.Sandboxes;
using ProtoSandbox = TypedSandbox.Protocol.Client.Sandbox;

namespace TypedSandbox.Server.Api;

/// <summary>The create path's OIDC identity token (Modal's <c>include_oidc_identity_token</c>).</summary>
internal sealed partial class ControlPlaneService
{
    /// <summary>
    /// The spec, with <c>MODAL_IDENTITY_TOKEN</c> minted for the sandbox once its id exists when the definition asks
    /// for it; the token lives as long as the sandbox may.
    /// </summary>
    private async Task<SandboxSpec> WithIdentityTokenAsync(SandboxSpec spec, ProtoSandbox? definition, ServerCallContext context)
    {
        if (definition is not { IncludeOidcIdentityToken: true })
        {
            return spec;
        }

        var app = await apps.GetAsync(spec.AppId, context.CancellationToken).ConfigureAwait(false)
            ?? throw EngineException.NotFound($"App '{spec.AppId}' not found");
        var environment = await lifecycle.Environments.GetOrCreateAsync(app.Environment, createIfMissing: true, context.CancellationToken).ConfigureAwait(false);
        var tokens = Service<IdentityTokens>(context);
        return spec with
        {
            IdentityEnvironment = sandboxId => new Dictionary<string, string>
            {
                [IdentityTokens.EnvironmentVariable] = tokens.Mint(new SandboxIdentity(sandboxId, app.Id, app.Name, environment.Id, environment.Name), spec.Timeout),
            },
        };
    }
}
