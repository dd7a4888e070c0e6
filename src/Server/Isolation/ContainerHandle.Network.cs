using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Isolation;

/// <summary>A running sandbox whose outbound policy can be replaced while it runs.</summary>
internal interface INetworkPolicyContainer
{
    /// <summary>Puts <paramref name="policy"/> (an open policy, filtered or not) in force, replacing the current one.</summary>
    /// <exception cref="EngineException">The sandbox was created without a network (FAILED_PRECONDITION, says why).</exception>
    /// <exception cref="SandboxEndedException">The sandbox has ended.</exception>
    Task SetNetworkPolicyAsync(NetworkPolicy policy, CancellationToken ct);

    /// <summary>Replaces the headers its egress proxy sets (keeping its domain allow-list); false when it runs without one.</summary>
    bool TryReplaceEgressHeaders(IReadOnlyList<Network.HeaderReplacement> replacements);
}

/// <summary>Live updates of a sandbox's outbound policy (see <see cref="SandboxNetwork.ApplyAsync"/>).</summary>
internal sealed partial class ContainerHandle : INetworkPolicyContainer
{
    /// <inheritdoc/>
    public async Task SetNetworkPolicyAsync(NetworkPolicy policy, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (_resources.Network is not { IsOpen: true } network)
        {
            // No namespace or user-mode stack exists to open: made at create time, they cannot be added to a running sandbox.
            throw EngineException.Precondition(
                $"Sandbox {Id} was created with blockNetwork, so it has no network to change; create it with an empty outbound CIDR allow-list instead to start blocked and open it later.");
        }

        if (network.HasEgressProxy)
        {
            // Its packet filter sends TLS and HTTP through the proxy; a CIDR-only table would silently drop the domain list.
            throw EngineException.Precondition(
                $"Sandbox {Id} was created with an outbound domain allow-list or an experimental outbound policy (both run through its egress proxy), whose network policy the local engine cannot change while it runs; create a new sandbox with the new policy.");
        }

        if (_exited.Task.IsCompleted)
        {
            throw new SandboxEndedException();
        }

        await network.ApplyAsync(policy, ct).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public bool TryReplaceEgressHeaders(IReadOnlyList<Network.HeaderReplacement> replacements) =>
        _resources.Network is { } network && network.TryReplaceEgressHeaders(replacements);
}
