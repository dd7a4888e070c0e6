using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Tests.Sandboxes;

public sealed class NetworkRulesTests
{
    [Theory]
    [InlineData("10.1.2.3/8", "10.0.0.0/8")]
    [InlineData("192.0.2.7/32", "192.0.2.7/32")]
    [InlineData("192.0.2.7", "192.0.2.7/32")]
    [InlineData("172.16.5.4/12", "172.16.0.0/12")]
    [InlineData("8.8.8.8/0", "0.0.0.0/0")]
    public void Cidrs_are_normalized_to_their_network(string cidr, string expected) =>
        Assert.Equal(expected, NetworkRules.NormalizeCidr(cidr));

    [Theory]
    [InlineData("not-a-cidr", "Invalid CIDR: ")]
    [InlineData("10.1/8", "Invalid CIDR: ")]
    [InlineData("10.0.0.0/33", "Invalid CIDR: ")]
    [InlineData("10.0.0.0/x", "Invalid CIDR: ")]
    [InlineData("10.0.0.0/-1", "Invalid CIDR: ")]
    [InlineData("2001:db8::/32", "IPv6")]
    public void Bad_cidrs_are_refused_with_what_is_allowed(string cidr, string message)
    {
        var error = Assert.Throws<EngineException>(() => NetworkRules.NormalizeCidr(cidr));

        Assert.Equal(EngineErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        if (message.StartsWith("Invalid CIDR", StringComparison.Ordinal))
        {
            Assert.Equal("Invalid CIDR: " + cidr, error.Message);
        }
    }

    [Fact]
    public void An_allow_list_opens_the_network_to_its_cidrs_only()
    {
        var policy = NetworkRules.AllowList(["10.1.2.3/8", "10.0.0.0/8", "192.0.2.7/32"], []);

        Assert.Equal(NetworkMode.Open, policy.Mode);
        Assert.Equal(["10.0.0.0/8", "192.0.2.7/32"], policy.AllowedCidrs);
    }

    [Fact]
    public void An_empty_allow_list_allows_nothing_but_keeps_a_network_a_live_update_can_open()
    {
        var policy = NetworkRules.AllowList([], []);

        Assert.Equal(NetworkMode.Open, policy.Mode);
        Assert.Empty(policy.AllowedCidrs);
        Assert.True(policy.Filters);
        Assert.NotEqual(NetworkPolicy.Open, policy);
    }

    [Fact]
    public void An_open_policy_loads_a_filter_that_rejects_only_the_closed_networks()
    {
        Assert.Equal(
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -o lo -j ACCEPT\n" +
            "-A OUTPUT -d 169.254.0.0/16 -p tcp -j REJECT --reject-with tcp-reset\n-A OUTPUT -d 169.254.0.0/16 -j REJECT --reject-with icmp-net-prohibited\n" +
            "-A OUTPUT -d 192.0.2.1/32 -p tcp -j REJECT --reject-with tcp-reset\n-A OUTPUT -d 192.0.2.1/32 -j REJECT --reject-with icmp-net-prohibited\nCOMMIT\n",
            NetworkRules.FilterTable(NetworkPolicy.Open, "10.0.2.3", ["169.254.0.0/16", "192.0.2.1/32"]));
    }

    [Fact]
    public void The_closed_networks_hold_the_metadata_services_and_every_address_of_the_host()
    {
        var closed = ClosedNetworks.Current([]);

        Assert.Contains("169.254.0.0/16", closed);
        Assert.Contains("168.63.129.16/32", closed);
        Assert.Contains("100.100.100.200/32", closed);
        Assert.DoesNotContain(closed, c => c.StartsWith("127.", StringComparison.Ordinal));
        foreach (var address in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(u => u.Address)
            .Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(a)))
        {
            Assert.Contains(closed, c => System.Net.IPNetwork.Parse(c).Contains(address));
        }
    }

    [Fact]
    public void The_operators_closed_networks_come_after_the_fixed_ones_and_hold_the_host_addresses_inside_them()
    {
        var hostAddresses = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(u => u.Address)
            .Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(a))
            .ToList();

        // 0.0.0.0/1 and 128.0.0.0/1 hold every IPv4 address: no /32 of the host is listed beside them.
        var closed = ClosedNetworks.Current(["0.0.0.0/1", "128.0.0.0/1", "169.254.0.0/16"]);

        Assert.Equal([.. ClosedNetworks.Fixed, "0.0.0.0/1", "128.0.0.0/1"], closed);
        Assert.NotEmpty(hostAddresses);
        Assert.Equal(ClosedNetworks.Fixed.Count + hostAddresses.Distinct().Count(a => !ClosedNetworks.Fixed.Any(f => System.Net.IPNetwork.Parse(f).Contains(a))),
            ClosedNetworks.Current([]).Count);
    }

    [Fact]
    public void An_allow_list_accepts_loopback_dns_and_its_cidrs_and_rejects_the_rest()
    {
        var rules = NetworkRules.FilterTable(NetworkRules.AllowList(["192.0.2.7/24"], []), "10.0.2.3", ["169.254.0.0/16"]).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(
            [
                "*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT DROP [0:0]", "-A OUTPUT -o lo -j ACCEPT",
                "-A OUTPUT -d 169.254.0.0/16 -p tcp -j REJECT --reject-with tcp-reset", "-A OUTPUT -d 169.254.0.0/16 -j REJECT --reject-with icmp-net-prohibited",
                "-A OUTPUT -d 10.0.2.3/32 -p udp --dport 53 -j ACCEPT", "-A OUTPUT -d 10.0.2.3/32 -p tcp --dport 53 -j ACCEPT",
                "-A OUTPUT -d 192.0.2.0/24 -j ACCEPT",
                "-A OUTPUT -p tcp -j REJECT --reject-with tcp-reset", "-A OUTPUT -j REJECT --reject-with icmp-port-unreachable", "COMMIT",
            ],
            rules);
    }

    [Fact]
    public void An_empty_allow_list_lets_nothing_but_loopback_out_not_even_dns()
    {
        var rules = NetworkRules.FilterTable(NetworkRules.AllowList([], []), "10.0.2.3", []);

        Assert.DoesNotContain("--dport 53", rules, StringComparison.Ordinal);
        Assert.Contains(":OUTPUT DROP", rules, StringComparison.Ordinal);
        Assert.Contains("-A OUTPUT -o lo -j ACCEPT\n-A OUTPUT -p tcp -j REJECT", rules, StringComparison.Ordinal);
    }

    [Fact]
    public void Domain_allow_lists_open_the_network_through_the_egress_proxy_and_keep_listed_cidrs()
    {
        var policy = NetworkRules.AllowList(["10.1.2.3/8"], ["example.com", "*.example.org", "example.com"]);

        Assert.Equal(NetworkMode.Open, policy.Mode);
        Assert.Equal(["10.0.0.0/8"], policy.AllowedCidrs);
        Assert.Equal(["example.com", "*.example.org"], policy.Egress!.AllowedDomains!.Select(d => d.ToString()));
    }

    [Fact]
    public void A_domain_that_is_not_a_name_is_refused()
    {
        var error = Assert.Throws<EngineException>(() => NetworkRules.AllowList([], ["exa mple.com"]));

        Assert.Equal(EngineErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("'exa mple.com' is not a domain name", error.Message, StringComparison.Ordinal);
    }
}
