using Grpc.Core;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Server.Snapshots;

namespace TypedSandbox.Server.Api;

/// <summary>The control plane's memory snapshot and exit snapshot RPCs, and the create path exit snapshots need.</summary>
internal sealed partial class ControlPlaneService
{
    /// <summary>Creates a sandbox; one with exit snapshots gets an engine-kept writable layer, committed when it ends.</summary>
    /// <remarks>
    /// With <paramref name="background"/> it returns before the container runs (see <see cref="SandboxManager.BeginCreateAsync"/>);
    /// one with exit snapshots always returns once it runs.
    /// </remarks>
    private async Task<SandboxSession> CreateSandboxAsync(SandboxSpec spec, ServerCallContext context, bool background = false)
    {
        if (!spec.EnableExitSnapshot)
        {
            return background
                ? await sandboxes.BeginCreateAsync(spec, null, context.CancellationToken).ConfigureAwait(false)
                : await sandboxes.CreateAsync(spec, context.CancellationToken).ConfigureAwait(false);
        }

        var exits = Service<ExitSnapshots>(context);
        var session = await sandboxes.CreateAsync(spec, exits.Prepare, context.CancellationToken).ConfigureAwait(false);
        exits.Watch(session);
        return session;
    }

    public override async Task<SandboxSnapshotResponse> SandboxSnapshot(SandboxSnapshotRequest request, ServerCallContext context)
    {
        var session = await sandboxes.GetStartedAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false);
        var id = await Service<MemorySnapshots>(context).StartAsync(session, context.CancellationToken).ConfigureAwait(false);
        return new SandboxSnapshotResponse { SnapshotId = id };
    }

    public override async Task<SandboxSnapshotWaitResponse> SandboxSnapshotWait(SandboxSnapshotWaitRequest request, ServerCallContext context)
    {
        GenericResult result;
        try
        {
            var record = await Service<MemorySnapshots>(context).WaitAsync(request.SnapshotId, LongPoll.Clamp(request.Timeout), context.CancellationToken)
                .ConfigureAwait(false);
            result = record is null
                ? new GenericResult { Status = GenericResult.Types.GenericStatus.Timeout, Exception = $"Snapshot {request.SnapshotId} is still being taken." }
                : new GenericResult { Status = GenericResult.Types.GenericStatus.Success };
        }
        catch (Exception e) when (e is not RpcException && e is not OperationCanceledException && e is not Engine.EngineException { Kind: Engine.EngineErrorKind.NotFound })
        {
            result = new GenericResult { Status = GenericResult.Types.GenericStatus.Failure, Exception = e.Message };
        }

        return new SandboxSnapshotWaitResponse { Result = result };
    }

    public override async Task<SandboxSnapshotGetResponse> SandboxSnapshotGet(SandboxSnapshotGetRequest request, ServerCallContext context)
    {
        var record = await Service<MemorySnapshots>(context).GetAsync(request.SnapshotId, context.CancellationToken).ConfigureAwait(false);
        return new SandboxSnapshotGetResponse { SnapshotId = record.SnapshotId, HandleMetadata = new SandboxSnapshotHandleMetadata { IsV2 = record.Spec.V2 } };
    }

    public override async Task<SandboxRestoreResponse> SandboxRestore(SandboxRestoreRequest request, ServerCallContext context)
    {
        if (request.ReplaceVolumeMounts)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "Replacing volume mounts on restore is not supported by the local engine."));
        }

        var session = await RestoreAsync(request.SnapshotId, request.SandboxNameOverrideType, request.SandboxNameOverride, context).ConfigureAwait(false);
        return new SandboxRestoreResponse { SandboxId = session.Id };
    }

    public override async Task<SandboxRestoreV2Response> SandboxRestoreV2(SandboxRestoreV2Request request, ServerCallContext context)
    {
        var session = await RestoreAsync(request.SnapshotId, request.SandboxNameOverrideType, request.SandboxNameOverride, context).ConfigureAwait(false);
        var response = new SandboxRestoreV2Response
        {
            SandboxId = session.Id,
            TaskId = session.TaskId,
            Metadata = new SandboxHandleMetadata { AppId = session.Spec.AppId },
            CommandRouterAccess = new CommandRouterAccess { Jwt = tokens.MintRouterToken(session.TaskId), Url = endpoint.RouterUrl },
        };
        response.Tunnels.AddRange(TunnelTranslation.ToTunnelData(session));
        return response;
    }

    private static Task<SandboxSession> RestoreAsync(string snapshotId, SandboxNameOverrideType overrideType, string nameOverride, ServerCallContext context) =>
        Service<MemorySnapshots>(context).RestoreAsync(snapshotId, original => overrideType switch
        {
            SandboxNameOverrideType.None => null,
            SandboxNameOverrideType.String => nameOverride,
            _ => original,
        }, context.CancellationToken);

    public override Task<SandboxGetExitSnapshotResponse> SandboxGetExitSnapshotV2(SandboxGetExitSnapshotRequest request, ServerCallContext context) =>
        SandboxGetExitSnapshot(request, context);

    public override async Task<SandboxGetExitSnapshotResponse> SandboxGetExitSnapshot(SandboxGetExitSnapshotRequest request, ServerCallContext context)
    {
        var state = await Service<ExitSnapshots>(context).GetAsync(sandboxes.TryGet(request.SandboxId), request.SandboxId,
            LongPoll.Clamp(request.Timeout), context.CancellationToken).ConfigureAwait(false);
        return state switch
        {
            null => new SandboxGetExitSnapshotResponse { Pending = new() },
            { ImageId: { } imageId } => new SandboxGetExitSnapshotResponse { Success = new() { ImageId = imageId } },
            _ => new SandboxGetExitSnapshotResponse
            {
                Error = new() { ErrorCode = SandboxGetExitSnapshotResponse.Types.Error.Types.ErrorCode.Internal, Message = state.Error ?? "" },
            },
        };
    }

    // Resolved per call: the snapshot services are optional parts of the engine, not constructor dependencies of every RPC.
    private static T Service<T>(ServerCallContext context) where T : notnull =>
        context.GetHttpContext().RequestServices.GetRequiredService<T>();
}
