using Google.Protobuf;
using Grpc.Core;
using TypedSandbox.Protocol.CommandRouter;

namespace TypedSandbox.Server.Api;

/// <summary>The command router's sandbox-wide RPCs: readiness, entrypoint stdio (V2), filesystem snapshots (directories and mounts: CommandRouterService.Filesystem.cs).</summary>
internal sealed partial class CommandRouterService
{
    /// <summary>
    /// Blocks until the readiness probe passes (at once without a probe). Past the request's timeout the answer is
    /// DEADLINE_EXCEEDED, which the SDKs retry until their own deadline and then report as a timeout.
    /// </summary>
    public override async Task<SandboxWaitUntilReadyTcrResponse> SandboxWaitUntilReady(SandboxWaitUntilReadyTcrRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        var timeout = request.Timeout > 0 ? TimeSpan.FromSeconds(request.Timeout) : ReadinessWaitLimit;
        try
        {
            var readyAt = await readiness.WaitAsync(session, timeout < ReadinessWaitLimit ? timeout : ReadinessWaitLimit, context.CancellationToken).ConfigureAwait(false);
            return new SandboxWaitUntilReadyTcrResponse { ReadyAt = readyAt.ToUnixTimeMilliseconds() / 1000.0 };
        }
        catch (TimeoutException e)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, e.Message));
        }
    }

    /// <summary>The longest one readiness call waits (the SDK's default); the SDKs call again for more.</summary>
    private static readonly TimeSpan ReadinessWaitLimit = TimeSpan.FromMinutes(5);

    public override async Task SandboxStdioReadV2(SandboxStdioReadV2Request request, IServerStreamWriter<SandboxStdioReadV2Response> responseStream, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        var journal = EntrypointOutput.Journal(session, request.FileDescriptor == SandboxStdioFileDescriptor.Stderr);
        if (journal is null)
        {
            await session.Completion.WaitAsync(context.CancellationToken).ConfigureAwait(false);
            return;
        }

        var offset = (long)request.Offset;
        while (true)
        {
            var data = await journal.ReadAsync(offset, ChunkBytes, context.CancellationToken).ConfigureAwait(false);
            if (data.IsEmpty)
            {
                return;
            }

            await responseStream.WriteAsync(
                new SandboxStdioReadV2Response { Data = UnsafeByteOperations.UnsafeWrap(data), StartingOffset = (ulong)offset },
                context.CancellationToken).ConfigureAwait(false);
            offset += data.Length;
        }
    }

    public override async Task<SandboxStdinWriteV2Response> SandboxStdinWriteV2(SandboxStdinWriteV2Request request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        await sandboxes.WriteEntrypointStdinAsync(session, (long)request.Offset, request.Data.Memory, request.Eof, context.CancellationToken).ConfigureAwait(false);
        return new SandboxStdinWriteV2Response();
    }

    public override async Task<TaskSnapshotFilesystemResponse> TaskSnapshotFilesystem(TaskSnapshotFilesystemRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        var imageId = await snapshots.SnapshotAsync(session, request.SnapshotId, context.CancellationToken).ConfigureAwait(false);
        return new TaskSnapshotFilesystemResponse { ImageId = imageId };
    }
}
