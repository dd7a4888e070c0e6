using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;
using HeaderReplacement = TypedSandbox.Server.Network.HeaderReplacement;

namespace TypedSandbox.Server.Tests.Sandboxes;

/// <summary>How an outbound policy's header templates resolve and which network a sandbox created with one gets.</summary>
public sealed class OutboundHeadersTests
{
    private static readonly Dictionary<string, string> Secret = new(StringComparer.Ordinal) { ["API_TOKEN"] = "t0k", ["_X1"] = "x" };

    [Theory]
    [InlineData("Bearer $API_TOKEN", "Bearer t0k")]
    [InlineData("$API_TOKEN$_X1", "t0kx")]
    [InlineData("$$API_TOKEN", "$API_TOKEN")]
    [InlineData("costs $5 or ${API_TOKEN}", "costs $5 or ${API_TOKEN}")]
    [InlineData("ends with $", "ends with $")]
    [InlineData("plain", "plain")]
    public void Templates_take_secret_values_and_dollar_dollar_is_a_literal_dollar(string template, string expected) =>
        Assert.Equal(expected, OutboundHeaders.Expand(template, Secret, "Authorization"));

    [Fact]
    public void A_key_the_secret_lacks_is_refused_naming_the_keys_it_has_but_no_values()
    {
        var error = Assert.Throws<EngineException>(() => OutboundHeaders.Expand("Bearer $MISSING", Secret, "Authorization"));

        Assert.Equal(EngineErrorKind.InvalidArgument, error.Kind);
        Assert.Equal("Header value for 'Authorization' references $MISSING, which its secret does not have; it has API_TOKEN, _X1.", error.Message);
    }

    [Fact]
    public void A_template_without_a_secret_is_refused()
    {
        var error = Assert.Throws<EngineException>(() => OutboundHeaders.Expand("Bearer $API_TOKEN", null, "Authorization"));

        Assert.Equal(EngineErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void An_open_network_gets_a_proxy_that_keeps_its_domain_list_and_a_blocked_one_refuses_replacements()
    {
        var replacement = HeaderReplacement.Create("api.example.com", new Dictionary<string, string> { ["X-Token"] = "v" });
        var withDomains = NetworkRules.AllowList([], ["allowed.test"]);

        var open = OutboundHeaders.WithProxy(NetworkPolicy.Open, []);
        var listed = OutboundHeaders.WithProxy(withDomains, [replacement]);

        Assert.NotNull(open.Egress);
        Assert.Null(open.Egress.AllowedDomains);
        Assert.Equal(withDomains.Egress!.AllowedDomains, listed.Egress!.AllowedDomains);
        Assert.Equal([replacement], listed.Egress.HeaderReplacements);
        Assert.Same(NetworkPolicy.Blocked, OutboundHeaders.WithProxy(NetworkPolicy.Blocked, []));
        Assert.Equal(EngineErrorKind.InvalidArgument, Assert.Throws<EngineException>(() => OutboundHeaders.WithProxy(NetworkPolicy.Blocked, [replacement])).Kind);
    }

    [Fact]
    public void An_empty_cidr_list_with_a_proxy_still_lets_nothing_out()
    {
        var network = OutboundHeaders.WithProxy(NetworkRules.AllowList([], []), []);

        var filter = SandboxNetwork.EgressFilter(network, network.Egress!, []);

        Assert.Contains(":OUTPUT DROP [0:0]\n", filter, StringComparison.Ordinal);
        Assert.DoesNotContain("-A OUTPUT -m mark --mark 0x7e55 -j ACCEPT\n", filter, StringComparison.Ordinal);
    }
}
