using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Sandboxes;

namespace TypedSandbox;

/// <summary>Live changes of a running sandbox's outbound traffic.</summary>
public sealed partial class Sandbox
{
    /// <summary>
    /// Replaces the outbound network policy of the running sandbox (Modal's <c>updateNetworkPolicy</c>): afterwards it
    /// reaches only <paramref name="outboundCidrAllowlist"/> (<c>0.0.0.0/0</c> for everything, empty for nothing).
    /// Established connections the new policy no longer permits are reset.
    /// </summary>
    /// <param name="outboundCidrAllowlist">The IPv4 CIDRs it may connect to.</param>
    /// <param name="outboundDomainAllowlist">Host names it may connect to; the local engine refuses a non-empty list.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidArgumentException">A CIDR is malformed, or domains are not supported by the engine.</exception>
    /// <exception cref="ConflictException">The sandbox finished, or was created with <see cref="SandboxCreateOptions.BlockNetwork"/>.</exception>
    public async Task UpdateNetworkPolicyAsync(
        IReadOnlyList<string> outboundCidrAllowlist, IReadOnlyList<string>? outboundDomainAllowlist = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outboundCidrAllowlist);
        var request = new TaskSetNetworkAccessRequest
        {
            TaskId = await _connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false),
            NetworkAccess = SandboxNetworkRequest.AllowList(outboundCidrAllowlist, outboundDomainAllowlist ?? []),
        };
        await _connection.Router.CallAsync("TaskSetNetworkAccess", static (c, r, o) => c.TaskSetNetworkAccessAsync(r, o), request, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces the experimental outbound policy of a sandbox created with one (Modal's
    /// <c>experimentalUpdateOutboundPolicy</c>); the new policy replaces every rule of the old.
    /// </summary>
    /// <param name="policy">The whole new policy.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidArgumentException">The policy has parts the engine cannot apply.</exception>
    /// <exception cref="ConflictException">The sandbox finished or was created without an outbound policy.</exception>
    public async Task ExperimentalUpdateOutboundPolicyAsync(ExperimentalOutboundPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var request = new TaskSetExperimentalOutboundPolicyRequest
        {
            TaskId = await _connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false),
            ExperimentalOutboundPolicy = SandboxNetworkRequest.ToProtocol(policy),
        };
        await _connection.Router.CallAsync("TaskSetOutboundPolicy", static (c, r, o) => c.TaskSetOutboundPolicyAsync(r, o), request, cancellationToken)
            .ConfigureAwait(false);
    }
}
