using System.Globalization;
using System.Text;
using TypedSandbox.Server.Network;

namespace TypedSandbox.Server.Isolation;

/// <summary>The egress proxy's place in an open sandbox's network path (see <see cref="EgressProxy"/>).</summary>
internal sealed partial class SandboxNetwork
{
    private EgressProxy? _egress;

    /// <summary>True when an egress proxy enforces a domain allow-list or header replacements for this sandbox.</summary>
    public bool HasEgressProxy => _egress is not null;

    /// <summary>
    /// Replaces the names and headers the sandbox's egress proxy enforces (connections already open keep theirs);
    /// false when the sandbox was started without one, so only a restart can add it.
    /// </summary>
    public bool TryUpdateEgress(EgressRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (_egress is null)
        {
            return false;
        }

        _egress.Rules = rules;
        return true;
    }

    /// <summary>
    /// Replaces the headers the sandbox's egress proxy sets, keeping its domain allow-list; false when the sandbox was
    /// started without a proxy.
    /// </summary>
    public bool TryReplaceEgressHeaders(IReadOnlyList<HeaderReplacement> replacements)
    {
        ArgumentNullException.ThrowIfNull(replacements);
        return _egress is { } egress && TryUpdateEgress(egress.Rules with { HeaderReplacements = replacements });
    }

    /// <summary>
    /// Starts the proxy in the namespace, then loads the packet filter that sends the sandbox's TLS and HTTP
    /// connections to it: nat OUTPUT redirects those ports (except to allowed CIDRs and the proxy's own marked
    /// sockets), and with a domain allow-list filter OUTPUT drops everything else not on the CIDR list.
    /// </summary>
    private async Task StartEgressProxyAsync(NetworkPolicy policy, EgressRules rules, ContainerRuntimeOptions options, CancellationToken ct)
    {
        var path = NamespacePath!;
        // An engine-made namespace starts with loopback down; the proxy listens there.
        await HostCommand.RunCheckedAsync("ip", ["-n", _namespaceName!, "link", "set", "lo", "up"], ct).ConfigureAwait(false);
        _egress = await EgressProxy.StartAsync(path, rules, new EgressResolver(options.EgressHosts), EgressLimits.Default, _logger, ct).ConfigureAwait(false);
        // The proxy's rules of the moment (TryUpdateEgress may replace them) when the host's addresses change.
        await LoadFilterAsync(closed => EgressFilter(policy, _egress?.Rules ?? rules, closed), ct).ConfigureAwait(false);
    }

    /// <summary>The iptables-restore input for a sandbox with an egress proxy.</summary>
    /// <param name="policy">The sandbox's outbound policy.</param>
    /// <param name="rules">What its proxy enforces.</param>
    /// <param name="closed">Destinations rejected whatever is allowed, the proxy's own connections included (<see cref="ClosedNetworks"/>).</param>
    internal static string EgressFilter(NetworkPolicy policy, EgressRules rules, IReadOnlyList<string> closed)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(rules);
        var mark = "0x" + NamespaceSockets.ProxyMark.ToString("x", CultureInfo.InvariantCulture);
        var ports = string.Join(",", rules.TlsPorts.Concat(rules.HttpPorts).Distinct().Select(p => p.ToString(CultureInfo.InvariantCulture)));
        var text = new StringBuilder("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n");
        text.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -m mark --mark {mark} -j RETURN\n-A OUTPUT -d 127.0.0.0/8 -j RETURN\n");
        foreach (var cidr in policy.AllowedCidrs)
        {
            text.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -d {cidr} -j RETURN\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -p tcp -m multiport --dports {ports} -j REDIRECT --to-ports {EgressProxy.Port}\nCOMMIT\n");
        // Without a domain list the proxy only sets headers: the CIDR list (if any, even empty) still bounds where it connects.
        var restricted = rules.AllowedDomains is not null || policy.Filters;
        text.Append(CultureInfo.InvariantCulture, $"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT {(restricted ? "DROP" : "ACCEPT")} [0:0]\n");
        // Redirected packets keep the interface they were routed to first (-o lo misses them): match the new address.
        text.Append("-A OUTPUT -o lo -j ACCEPT\n-A OUTPUT -d 127.0.0.0/8 -j ACCEPT\n");
        // Before the proxy's own connections are accepted: an allowed name that resolves to the host or a metadata
        // service is refused too.
        ClosedNetworks.AppendRejects(text, closed);
        if (restricted)
        {
            text.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -d {SlirpDns}/32 -p udp --dport 53 -j ACCEPT\n-A OUTPUT -d {SlirpDns}/32 -p tcp --dport 53 -j ACCEPT\n");
            if (rules.AllowedDomains is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -m mark --mark {mark} -j ACCEPT\n");
            }

            foreach (var cidr in policy.AllowedCidrs)
            {
                text.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -d {cidr} -j ACCEPT\n");
            }
        }

        return text.Append("COMMIT\n").ToString();
    }

    private async Task StopEgressProxyAsync()
    {
        if (_egress is not null)
        {
            await _egress.DisposeAsync().ConfigureAwait(false);
            _egress = null;
        }
    }
}
