using System.Text;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Api;

/// <summary>The command router's filesystem RPCs: directory snapshots, image mounts, volume reloads.</summary>
internal sealed partial class CommandRouterService
{
    public override async Task<TaskSnapshotDirectoryResponse> TaskSnapshotDirectory(TaskSnapshotDirectoryRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        RequireMainContainer(request.ContainerId);
        RequireNoEncryptionKey(request.HasCustomerSuppliedEncryptionKey);
        var imageId = await snapshots.SnapshotDirectoryAsync(session, Path(request.Path), request.SnapshotId, context.CancellationToken).ConfigureAwait(false);
        return new TaskSnapshotDirectoryResponse { ImageId = imageId };
    }

    public override async Task<Empty> TaskMountDirectory(TaskMountDirectoryRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        RequireMainContainer(request.ContainerId);
        RequireNoEncryptionKey(request.HasCustomerSuppliedEncryptionKey);
        await mounts.MountImageAsync(session, Path(request.Path), request.ImageId, context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    }

    public override async Task<Empty> TaskUnmountDirectory(TaskUnmountDirectoryRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        RequireMainContainer(request.ContainerId);
        await mounts.UnmountImageAsync(session, Path(request.Path), context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    }

    // Volumes here are host directories bound into every sandbox that mounts them: writes are shared live, so there is
    // nothing to reload; the call succeeds for a running sandbox.
    public override async Task<TaskReloadVolumesResponse> TaskReloadVolumes(TaskReloadVolumesRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        RequireMainContainer(request.ContainerId);
        session.RequireRunning();
        return new TaskReloadVolumesResponse();
    }

    private static string Path(Google.Protobuf.ByteString path)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(path.Span);
        }
        catch (DecoderFallbackException)
        {
            throw EngineException.Invalid("The path is not valid UTF-8.");
        }
    }

    // The local image store keeps layers as plain directories: an encryption key could not be honoured, so it is refused.
    private static void RequireNoEncryptionKey(bool given)
    {
        if (given)
        {
            throw EngineException.Invalid("Customer-supplied encryption keys are not supported by the local engine: its image store is not encrypted.");
        }
    }

    private static void RequireMainContainer(string containerId)
    {
        if (!string.IsNullOrEmpty(containerId))
        {
            throw EngineException.NotFound($"Container '{containerId}' not found: this sandbox has only its main container.");
        }
    }
}
