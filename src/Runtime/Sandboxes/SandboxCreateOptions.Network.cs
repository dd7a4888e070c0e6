namespace TypedSandbox;

/// <summary>The network policy options of <see cref="SandboxCreateOptions"/> beyond open, blocked and CIDR allow-lists.</summary>
public sealed partial record SandboxCreateOptions
{
    /// <summary>
    /// Only these source CIDRs may connect to the sandbox's tunnels (Modal's <c>inboundCidrAllowlist</c>); null or empty
    /// lets any source connect.
    /// </summary>
    public IReadOnlyList<string>? InboundCidrAllowlist { get; init; }

    /// <summary>
    /// The sandbox's experimental outbound policy (Modal's <c>experimentalOutboundPolicy</c>); only a sandbox created
    /// with one can take a new one through <see cref="Sandbox.ExperimentalUpdateOutboundPolicyAsync"/>.
    /// </summary>
    public ExperimentalOutboundPolicy? ExperimentalOutboundPolicy { get; init; }
}

/// <summary>
/// Rules for a sandbox's outbound HTTP requests (Modal's <c>ExperimentalOutboundPolicy</c>): header replacements
/// scoped to destination domains. Immutable: <see cref="WithHeaderReplacement"/> returns a new policy.
/// </summary>
public sealed class ExperimentalOutboundPolicy
{
    private ExperimentalOutboundPolicy(IReadOnlyList<OutboundHeaderReplacement> replacements) => HeaderReplacements = replacements;

    /// <summary>A policy with no rules.</summary>
    public ExperimentalOutboundPolicy()
        : this([])
    {
    }

    /// <summary>The header replacements, in the order added.</summary>
    public IReadOnlyList<OutboundHeaderReplacement> HeaderReplacements { get; }

    /// <summary>Returns a policy with one more header replacement.</summary>
    /// <param name="domain">A host, a <c>*.</c> wildcard (the apex and its subdomains) or <c>*</c>.</param>
    /// <param name="headers">Header name → value; values may use <c>$KEY</c> templates of keys in <paramref name="secret"/>.</param>
    /// <param name="secret">A named secret (from <c>Secrets.FromNameAsync</c>) the templates refer to, or null.</param>
    public ExperimentalOutboundPolicy WithHeaderReplacement(string domain, IReadOnlyDictionary<string, string> headers, Secret? secret = null)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(headers);
        if (headers.Count == 0)
        {
            throw new InvalidArgumentException("A header replacement must contain at least one header");
        }

        if (secret is { SecretId: null })
        {
            throw new InvalidArgumentException("Outbound policies only support named secrets (from Secrets.FromNameAsync)");
        }

        return new ExperimentalOutboundPolicy([.. HeaderReplacements, new OutboundHeaderReplacement(domain, new Dictionary<string, string>(headers, StringComparer.Ordinal), secret)]);
    }
}

/// <summary>Headers set on the sandbox's outbound requests to <paramref name="Domain"/>.</summary>
/// <param name="Domain">A host, a <c>*.</c> wildcard or <c>*</c>.</param>
/// <param name="Headers">Header name → value (template).</param>
/// <param name="Secret">The named secret the templates refer to, or null.</param>
public sealed record OutboundHeaderReplacement(string Domain, IReadOnlyDictionary<string, string> Headers, Secret? Secret);
