using Grpc.Core;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.Sidecars;

namespace TypedSandbox.Server.Api;

/// <summary>The control plane's sidecar RPC: <c>SandboxContainerCreateV2</c> (the JS SDK's default path for V2 sandboxes).</summary>
internal sealed partial class ControlPlaneService
{
    public override async Task<SandboxContainerCreateV2Response> SandboxContainerCreateV2(SandboxContainerCreateV2Request request, ServerCallContext context)
    {
        var session = await sandboxes.GetStartedAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false);
        var definition = request.Definition ?? new Sandbox();
        var sources = definition.SecretIds.Select(id => (EnvironmentSource)new EnvironmentSource.Secret(id))
            .Concat(SandboxTranslation.ToSources(request.SecretSources));
        if (request.EphemeralSecrets is { } ephemeral)
        {
            sources = sources.Append(new EnvironmentSource.Inline(ephemeral.Contents));
        }

        var extras = new SidecarTranslation.Extras(definition.VolumeMounts.Count, definition.CloudBucketMounts.Count + request.CloudBucketMountCredentials.Count,
            definition.PtyInfo is not null, definition.NetworkAccess, definition.HasProxyId, definition.IncludeOidcIdentityToken);
        var spec = await SidecarTranslation.ToSpecAsync(request.ContainerName, definition.ImageId, definition.EntrypointArgs,
            definition.HasWorkdir ? definition.Workdir : null, sources, definition.Resources?.MemoryMb ?? 0, extras, secrets, context.CancellationToken)
            .ConfigureAwait(false);
        var sidecar = await Sidecars(context).CreateAsync(session, spec, context.CancellationToken).ConfigureAwait(false);
        return new SandboxContainerCreateV2Response { ContainerId = sidecar.Id, ContainerName = sidecar.Name };
    }

    // Resolved per call rather than through the constructor, which every feature's partial file shares.
    private static SandboxSidecars Sidecars(ServerCallContext context) => context.GetHttpContext().RequestServices.GetRequiredService<SandboxSidecars>();
}
