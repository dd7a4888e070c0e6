using System.Runtime.CompilerServices;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// Live changes of a running sandbox's outbound traffic: its network policy (open, CIDR allow-list, nothing) and its
/// experimental outbound policy. The current outbound policy is kept per sandbox for as long as the sandbox is.
/// </summary>
internal sealed partial class OutboundPolicyUpdates(ILogger<OutboundPolicyUpdates> logger, IOutboundProxy? proxy = null)
{
    private readonly ConditionalWeakTable<SandboxSession, OutboundPolicy> _current = [];

    /// <summary>
    /// Replaces the outbound network policy of <paramref name="session"/>. A blocked policy becomes an empty allow-list
    /// (nothing leaves, loopback works), so it can be opened again later.
    /// </summary>
    /// <exception cref="EngineException">The sandbox finished or was created with blockNetwork (FAILED_PRECONDITION).</exception>
    public async Task SetNetworkAsync(SandboxSession session, NetworkPolicy policy, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(policy);
        if (session.RequireRunning() is not INetworkPolicyContainer container)
        {
            throw EngineException.Precondition($"Sandbox {session.Id} runs on a runtime whose network cannot change while it runs.");
        }

        var live = policy.Mode == NetworkMode.Blocked ? new NetworkPolicy(NetworkMode.Open, []) { Restricted = true } : policy;
        await container.SetNetworkPolicyAsync(live, ct).ConfigureAwait(false);
        LogNetworkPolicyChanged(session.Id, live.Filters ? "[" + string.Join(", ", live.AllowedCidrs) + "]" : "open");
    }

    /// <summary>The experimental outbound policy in force: the last update's, else the create's; null when it has none.</summary>
    public OutboundPolicy? Current(SandboxSession session) =>
        _current.TryGetValue(session, out var policy) ? policy : session.Spec.OutboundPolicy;

    /// <summary>Replaces the experimental outbound policy of a sandbox created with one.</summary>
    /// <exception cref="EngineException">
    /// The sandbox was created without one or finished (FAILED_PRECONDITION), or the policy has parts this engine cannot
    /// apply (INVALID_ARGUMENT).
    /// </exception>
    public async Task SetOutboundAsync(SandboxSession session, OutboundPolicy policy, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(policy);
        session.RequireRunning();
        if (session.Spec.OutboundPolicy is null)
        {
            // As Modal: header replacement is set up at creation, so only a sandbox created with a policy takes a new one.
            throw EngineException.Precondition(
                $"Sandbox {session.Id} was created without an experimentalOutboundPolicy; only sandboxes created with one can update it.");
        }

        OutboundPolicyRules.RequireApplicable(policy, proxy);
        if (proxy is not null)
        {
            await proxy.ApplyAsync(session, policy, ct).ConfigureAwait(false);
        }

        _current.AddOrUpdate(session, policy);
    }

    [LoggerMessage(EventId = 1901, Level = LogLevel.Information, Message = "Sandbox {SandboxId}: outbound network policy is now {Policy}")]
    private partial void LogNetworkPolicyChanged(string sandboxId, string policy);
}
