using Grpc.Core;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Server.Snapshots;

namespace TypedSandbox.Server.Api;

/// <summary>The command router's memory snapshot RPC (V2 sandboxes): one call that returns once the snapshot is taken.</summary>
internal sealed partial class CommandRouterService
{
    public override async Task<TaskSnapshotMemoryResponse> TaskSnapshotMemory(TaskSnapshotMemoryRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        var memory = context.GetHttpContext().RequestServices.GetRequiredService<MemorySnapshots>();
        var id = await memory.StartAsync(session, context.CancellationToken).ConfigureAwait(false);
        while (await memory.WaitAsync(id, LongPoll.Max, context.CancellationToken).ConfigureAwait(false) is null)
        {
            // Still being taken: keep waiting within the caller's deadline.
        }

        return new TaskSnapshotMemoryResponse { SnapshotId = id };
    }
}
