using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Server.Secrets;
using OutboundPolicy = TypedSandbox.Server.Sandboxes.OutboundPolicy;
using ProtoOutboundPolicy = TypedSandbox.Protocol.Client.ExperimentalOutboundPolicy;

namespace TypedSandbox.Server.Api;

/// <summary>Protocol messages ↔ engine records for network policies: outbound access, inbound allow-lists, outbound policies.</summary>
internal static class NetworkTranslation
{
    /// <summary>The engine's policy for a live update of <c>NetworkAccess</c> (the SDK sends ALLOWLIST; OPEN and BLOCKED are taken too).</summary>
    /// <exception cref="EngineException">
    /// The access is unspecified, the allow-list is malformed, or it lists domains (INVALID_ARGUMENT): a domain list is
    /// enforced by an egress proxy that starts with the sandbox, so it is set at create only.
    /// </exception>
    public static NetworkPolicy ToLivePolicy(NetworkAccess? access) => access?.NetworkAccessType switch
    {
        NetworkAccess.Types.NetworkAccessType.Open => NetworkPolicy.Open,
        NetworkAccess.Types.NetworkAccessType.Blocked => NetworkPolicy.Blocked,
        // A running sandbox's proxy is started (or not) at create: its domain list cannot be added or changed later.
        NetworkAccess.Types.NetworkAccessType.Allowlist when access.AllowedDomains.Count > 0 => throw EngineException.Invalid(
            "This engine cannot apply outbound domain allow-lists to a running sandbox; set outboundDomainAllowlist when creating it (a live update takes CIDR allow-lists)."),
        NetworkAccess.Types.NetworkAccessType.Allowlist => NetworkRules.AllowList(access.AllowedCidrs, []),
        _ => throw EngineException.Invalid("network_access needs a type: OPEN, BLOCKED or ALLOWLIST."),
    };

    /// <summary>The inbound allow-list of a create request, normalized (empty = connections from anywhere).</summary>
    /// <exception cref="EngineException">A CIDR is malformed or IPv6 (INVALID_ARGUMENT).</exception>
    public static IReadOnlyList<string> InboundCidrs(IEnumerable<string> cidrs) =>
        [.. cidrs.Select(NetworkRules.NormalizeCidr).Distinct(StringComparer.Ordinal)];

    /// <summary>The engine's form of a create request's experimental outbound policy; null when none was sent.</summary>
    public static OutboundPolicy? ToOutboundPolicy(ProtoOutboundPolicy? policy) => policy is null ? null : FromProtocol(policy);

    /// <summary>
    /// The network of a sandbox created with <paramref name="policy"/>: with one, an open network runs an egress proxy
    /// that sets its header replacements (secrets resolved here, outside the sandbox); without one, unchanged.
    /// </summary>
    /// <exception cref="EngineException">A named secret does not exist (NOT_FOUND), or the policy cannot apply (INVALID_ARGUMENT).</exception>
    public static async Task<NetworkPolicy> WithOutboundPolicyAsync(NetworkPolicy network, OutboundPolicy? policy, SecretStore secrets, CancellationToken ct) =>
        policy is null ? network : OutboundHeaders.WithProxy(network, await OutboundHeaders.ResolveAsync(policy, secrets, ct).ConfigureAwait(false));

    /// <summary>The engine's form of an experimental outbound policy, unchecked (an absent one has no rules).</summary>
    public static OutboundPolicy FromProtocol(ProtoOutboundPolicy? policy) =>
        new([.. (policy?.HeaderReplacements ?? []).Select(r => new HeaderReplacement(
            r.Domain, r.SecretId.Length > 0 ? r.SecretId : null, new Dictionary<string, string>(r.Headers, StringComparer.Ordinal)))]);
}
