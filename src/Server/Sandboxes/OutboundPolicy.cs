using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// A sandbox's experimental outbound policy (Modal's <c>ExperimentalOutboundPolicy</c>), as given at create or by a
/// live update: header replacements scoped to destination domains. The packet filter cannot apply them; the sandbox's
/// egress proxy does (started at create for every sandbox created with a policy; updated through <see cref="IOutboundProxy"/>).
/// </summary>
/// <param name="HeaderReplacements">The replacements, in the order given.</param>
internal sealed record OutboundPolicy(IReadOnlyList<HeaderReplacement> HeaderReplacements)
{
    /// <summary>A policy with no rules (accepted; it only marks the sandbox as one whose policy can be updated).</summary>
    public static OutboundPolicy Empty { get; } = new([]);

    /// <summary>The parts only an egress proxy can apply, named for an error message; empty when there are none.</summary>
    public IReadOnlyList<string> ProxyParts =>
        [.. HeaderReplacements.Select(r => $"header replacement for '{r.Domain}' ({string.Join(", ", r.Headers.Keys.Order(StringComparer.Ordinal))})")];
}

/// <summary>Request headers to set on outbound HTTP requests to <paramref name="Domain"/>.</summary>
/// <param name="Domain">A host, a <c>*.</c> wildcard (the apex and its subdomains) or <c>*</c>.</param>
/// <param name="SecretId">The named secret whose keys <c>$KEY</c> templates in the values refer to; null for static values.</param>
/// <param name="Headers">Header name → value (template).</param>
internal sealed record HeaderReplacement(string Domain, string? SecretId, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// The seam for the filtering egress proxy: it applies what <see cref="OutboundPolicy.ProxyParts"/> names to a running
/// sandbox's outbound traffic. Without one registered, those parts are refused with INVALID_ARGUMENT, never ignored.
/// </summary>
internal interface IOutboundProxy
{
    /// <summary>Puts <paramref name="policy"/> in force for <paramref name="session"/>'s outbound requests, replacing the one before.</summary>
    Task ApplyAsync(SandboxSession session, OutboundPolicy policy, CancellationToken ct);
}

/// <summary>The rules for an outbound policy the engine is asked to apply.</summary>
internal static class OutboundPolicyRules
{
    /// <summary>Refuses a policy with parts only an egress proxy applies when no proxy is there to apply them.</summary>
    /// <exception cref="EngineException">INVALID_ARGUMENT naming the parts.</exception>
    public static void RequireApplicable(OutboundPolicy policy, IOutboundProxy? proxy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (proxy is null && policy.ProxyParts is { Count: > 0 } parts)
        {
            throw EngineException.Invalid(
                $"This engine cannot apply the outbound policy's {string.Join("; ", parts)}: header replacement needs an egress proxy, which this engine was started without.");
        }
    }
}
