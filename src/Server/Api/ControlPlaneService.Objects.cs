using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TypedSandbox.Protocol.Client;

namespace TypedSandbox.Server.Api;

/// <summary>The control plane's named objects: apps, secrets, volumes (each within an environment that must exist).</summary>
internal sealed partial class ControlPlaneService
{
    public override async Task<AppGetOrCreateResponse> AppGetOrCreate(AppGetOrCreateRequest request, ServerCallContext context)
    {
        await lifecycle.Environments.GetAsync(request.EnvironmentName, context.CancellationToken).ConfigureAwait(false);
        var create = request.ObjectCreationType is ObjectCreationType.CreateIfMissing or ObjectCreationType.Ephemeral or ObjectCreationType.AnonymousOwnedByApp;
        var app = await apps.GetOrCreateAsync(request.EnvironmentName, request.AppName, create, context.CancellationToken).ConfigureAwait(false);
        return new AppGetOrCreateResponse { AppId = app.Id };
    }

    public override async Task<SecretGetOrCreateResponse> SecretGetOrCreate(SecretGetOrCreateRequest request, ServerCallContext context)
    {
        await lifecycle.Environments.GetAsync(request.EnvironmentName, context.CancellationToken).ConfigureAwait(false);
        var anonymous = request.ObjectCreationType == ObjectCreationType.Ephemeral || (request.EnvDict.Count > 0 && string.IsNullOrEmpty(request.DeploymentName));
        var id = anonymous
            ? await secrets.CreateEphemeralAsync(request.EnvironmentName, request.EnvDict, context.CancellationToken).ConfigureAwait(false)
            : await secrets.GetNamedAsync(request.EnvironmentName, request.DeploymentName, [.. request.RequiredKeys], context.CancellationToken).ConfigureAwait(false);
        return new SecretGetOrCreateResponse { SecretId = id };
    }

    public override async Task<VolumeGetOrCreateResponse> VolumeGetOrCreate(VolumeGetOrCreateRequest request, ServerCallContext context)
    {
        await lifecycle.Environments.GetAsync(request.EnvironmentName, context.CancellationToken).ConfigureAwait(false);
        var id = request.ObjectCreationType == ObjectCreationType.Ephemeral
            ? await volumes.CreateEphemeralAsync(request.EnvironmentName, context.CancellationToken).ConfigureAwait(false)
            : await volumes.GetOrCreateNamedAsync(
                request.EnvironmentName, request.DeploymentName, request.ObjectCreationType == ObjectCreationType.CreateIfMissing, context.CancellationToken).ConfigureAwait(false);
        // Local volumes have no on-disk format version; report the one asked for so the SDK's version check passes.
        var version = request.Version == VolumeFsVersion.Unspecified ? VolumeFsVersion.V1 : request.Version;
        return new VolumeGetOrCreateResponse { VolumeId = id, Version = version, Metadata = new VolumeMetadata { Version = version, Name = request.DeploymentName } };
    }

    public override async Task<Empty> VolumeHeartbeat(VolumeHeartbeatRequest request, ServerCallContext context)
    {
        await volumes.GetDirectoryAsync(request.VolumeId, context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    }

    public override async Task<Empty> SecretDelete(SecretDeleteRequest request, ServerCallContext context)
    {
        await secrets.DeleteAsync(request.SecretId, context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    }

    public override async Task<Empty> VolumeDelete(VolumeDeleteRequest request, ServerCallContext context)
    {
        await lifecycle.DeleteVolumeAsync(request.VolumeId, context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    }
}
