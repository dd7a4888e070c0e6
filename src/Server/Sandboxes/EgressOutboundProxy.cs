using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Secrets;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// Applies a live outbound policy through the sandbox's own egress proxy (started at create for every sandbox created
/// with an outbound policy): the header replacements change, its domain allow-list stays.
/// </summary>
internal sealed partial class EgressOutboundProxy(SecretStore secrets, ILogger<EgressOutboundProxy> logger) : IOutboundProxy
{
    /// <inheritdoc/>
    /// <exception cref="EngineException">
    /// A named secret does not exist (NOT_FOUND), a template cannot resolve (INVALID_ARGUMENT), or the sandbox has no
    /// egress proxy to set headers, as with blockNetwork (FAILED_PRECONDITION).
    /// </exception>
    public async Task ApplyAsync(SandboxSession session, OutboundPolicy policy, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(policy);
        var replacements = await OutboundHeaders.ResolveAsync(policy, secrets, ct).ConfigureAwait(false);
        var applied = session.RequireRunning() is INetworkPolicyContainer container && container.TryReplaceEgressHeaders(replacements);
        if (!applied && replacements.Count > 0)
        {
            throw EngineException.Precondition(
                $"Sandbox {session.Id} has no outbound network (blockNetwork), so no header replacements can apply; create it without blockNetwork to use them.");
        }

        LogHeadersReplaced(session.Id, replacements.Count);
    }

    [LoggerMessage(EventId = 1902, Level = LogLevel.Information, Message = "Sandbox {SandboxId}: its egress proxy now sets {Count} header replacement(s)")]
    private partial void LogHeadersReplaced(string sandboxId, int count);
}
