using Grpc.Core;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Api;

/// <summary>The command router's live network RPCs: a running sandbox's outbound access and experimental outbound policy.</summary>
internal sealed partial class CommandRouterService
{
    public override async Task<TaskSetNetworkAccessResponse> TaskSetNetworkAccess(TaskSetNetworkAccessRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        var policy = NetworkTranslation.ToLivePolicy(request.NetworkAccess);
        await Updates(context).SetNetworkAsync(session, policy, context.CancellationToken).ConfigureAwait(false);
        return new TaskSetNetworkAccessResponse();
    }

    public override async Task<TaskSetExperimentalOutboundPolicyResponse> TaskSetOutboundPolicy(TaskSetExperimentalOutboundPolicyRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        // What cannot be applied is refused by the updates (a proxy may be there to apply it), not by the translation.
        var policy = NetworkTranslation.FromProtocol(request.ExperimentalOutboundPolicy);
        await Updates(context).SetOutboundAsync(session, policy, context.CancellationToken).ConfigureAwait(false);
        return new TaskSetExperimentalOutboundPolicyResponse();
    }

    private static OutboundPolicyUpdates Updates(ServerCallContext context) =>
        context.GetHttpContext().RequestServices.GetRequiredService<OutboundPolicyUpdates>();
}
