using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Network;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>How a sandbox's requested network access becomes a policy the isolation layer enforces.</summary>
internal static class NetworkRules
{
    /// <summary>
    /// An outbound allow-list. CIDRs are IPv4 (sandboxes have IPv4 networking only) and are normalized to their
    /// network address ("10.1.2.3/8" becomes "10.0.0.0/8"). An empty list allows nothing, as Modal documents it ("an
    /// empty outbound allowlist blocks public egress"), but unlike blockNetwork the sandbox keeps a network whose filter
    /// a live update can open. Domains (exact names, <c>*.</c> wildcard prefixes) are enforced by an egress proxy that
    /// reads each TLS and HTTP connection's SNI or Host.
    /// </summary>
    /// <exception cref="EngineException">A CIDR is malformed or IPv6, or a domain is not a name (INVALID_ARGUMENT).</exception>
    public static NetworkPolicy AllowList(IReadOnlyCollection<string> cidrs, IReadOnlyCollection<string> domains)
    {
        ArgumentNullException.ThrowIfNull(cidrs);
        ArgumentNullException.ThrowIfNull(domains);
        if (domains.Count > 0)
        {
            // Names are enforced by the sandbox's egress proxy (Network/EgressProxy); listed CIDRs stay reachable directly.
            return new NetworkPolicy(NetworkMode.Open, [.. cidrs.Select(NormalizeCidr).Distinct(StringComparer.Ordinal)]) { Egress = EgressRules.AllowOnly(domains) };
        }

        // An open network even when the list is empty: its packet filter can be changed later (updateNetworkPolicy).
        return new NetworkPolicy(NetworkMode.Open, [.. cidrs.Select(NormalizeCidr).Distinct(StringComparer.Ordinal)]) { Restricted = true };
    }

    /// <summary>
    /// The <c>iptables-restore</c> input that puts <paramref name="policy"/> in force in a sandbox's network namespace.
    /// It replaces the whole filter table, so applying it again later changes the policy of a running sandbox. The
    /// <paramref name="closed"/> destinations (<see cref="ClosedNetworks"/>) are rejected first, under every policy; then
    /// what the list does not allow is rejected, not dropped: a connect fails at once, and an established connection the
    /// new policy no longer permits is reset on its next packet (as Modal documents for a live update).
    /// </summary>
    /// <param name="policy">An open policy, filtered or not.</param>
    /// <param name="dns">The address of the namespace's resolver, allowed when the list is not empty.</param>
    /// <param name="closed">Destinations rejected whatever the policy allows (<see cref="ClosedNetworks.Current"/>).</param>
    public static string FilterTable(NetworkPolicy policy, string dns, IReadOnlyList<string> closed)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(closed);
        var rules = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT {(policy.Filters ? "DROP" : "ACCEPT")} [0:0]\n-A OUTPUT -o lo -j ACCEPT\n");
        ClosedNetworks.AppendRejects(rules, closed);
        if (!policy.Filters)
        {
            return rules.Append("COMMIT\n").ToString();
        }

        if (policy.AllowedCidrs.Count > 0)
        {
            // Name resolution keeps working while anything is allowed: slirp forwards its resolver to the host's.
            rules.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -d {dns}/32 -p udp --dport 53 -j ACCEPT\n-A OUTPUT -d {dns}/32 -p tcp --dport 53 -j ACCEPT\n");
        }

        foreach (var cidr in policy.AllowedCidrs)
        {
            rules.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -d {NormalizeCidr(cidr)} -j ACCEPT\n");
        }

        rules.Append("-A OUTPUT -p tcp -j REJECT --reject-with tcp-reset\n-A OUTPUT -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n");
        return rules.ToString();
    }

    /// <summary>Checks an IPv4 CIDR and returns it with the host bits cleared.</summary>
    /// <exception cref="EngineException">It is not an IPv4 CIDR (INVALID_ARGUMENT).</exception>
    public static string NormalizeCidr(string cidr)
    {
        ArgumentNullException.ThrowIfNull(cidr);
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        var address = slash < 0 ? cidr : cidr[..slash];
        // IPAddress also takes legacy short forms ("10.1" is 10.0.0.1): require four dotted parts for IPv4.
        if (!IPAddress.TryParse(address, out var ip) || ip.AddressFamily == AddressFamily.InterNetwork && address.Split('.').Length != 4)
        {
            throw InvalidCidr(cidr);
        }

        if (ip.AddressFamily != AddressFamily.InterNetwork)
        {
            throw EngineException.Invalid($"'{cidr}' is an IPv6 CIDR; sandboxes have IPv4 networking only, so list IPv4 CIDRs.");
        }

        var prefix = 32;
        if (slash >= 0 && (!int.TryParse(cidr.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > 32))
        {
            throw InvalidCidr(cidr);
        }

        var bits = (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(ip.GetAddressBytes()));
        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        var network = new IPAddress(BitConverter.GetBytes(IPAddress.HostToNetworkOrder((int)(bits & mask))));
        return string.Create(CultureInfo.InvariantCulture, $"{network}/{prefix}");
    }

    // Modal's own wording, which its SDKs' users see for a malformed range (the rule book's Cidrs.Check says the same).
    private static EngineException InvalidCidr(string cidr) => EngineException.Invalid($"Invalid CIDR: {cidr}");
}
