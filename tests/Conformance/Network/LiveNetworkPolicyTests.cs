using System.Text.Json;
using TypedSandbox.Testing;
using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>
/// Live network policy, inbound CIDR allow-lists and experimental outbound policies through Modal's JS SDK 0.11.1
/// (js/netpolicy.mjs) against the real engine and a web server in a namespace the test made.
/// </summary>
[Collection(EngineTests.Name)]
public sealed class LiveNetworkPolicyTests(EngineFixture fixture, WebServerNamespace web) : IClassFixture<WebServerNamespace>
{
    private const string Served = "\r\n\r\nhello from the test namespace\n";

    [Theory]
    [InlineData("")]
    [InlineData("gvisor")]
    public async Task UpdateNetworkPolicy_changes_a_running_sandboxs_egress(string runtime)
    {
        var result = await fixture.RunAsync("netpolicy.mjs", "live",
            new Dictionary<string, string> { ["WEB_A"] = web.AddressA, ["WEB_B"] = web.AddressB, ["RUNTIME"] = runtime });

        Assert.DoesNotContain("hello", Stdout(result, "startsBlocked"), StringComparison.Ordinal);
        Assert.EndsWith(Served, Stdout(result, "opened"), StringComparison.Ordinal);
        Assert.EndsWith(Served, Stdout(result, "listedA"), StringComparison.Ordinal);
        Assert.DoesNotContain("hello", Stdout(result, "unlistedB"), StringComparison.Ordinal);
        Assert.DoesNotContain("hello", Stdout(result, "closedAgain"), StringComparison.Ordinal);
        Assert.EndsWith(Served, Stdout(result, "reopenedB"), StringComparison.Ordinal);
        Assert.Contains("Invalid CIDR: not-a-cidr", Error(result, "badCidr"), StringComparison.Ordinal);
        Assert.Contains("domain allow-lists", Error(result, "domains"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blockNetwork_sandbox_is_refused_with_why()
    {
        var result = await fixture.RunAsync("netpolicy.mjs", "blocked");

        Assert.Contains("FAILED_PRECONDITION", Error(result, "open"), StringComparison.Ordinal);
        Assert.Contains("blockNetwork", Error(result, "open"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_inbound_CIDR_allow_list_admits_listed_sources_to_the_tunnel_only()
    {
        var result = await fixture.RunAsync("netpolicy.mjs", "inbound");

        Assert.EndsWith("\r\n\r\ninside\n", result.GetProperty("admitted").GetString(), StringComparison.Ordinal);
        Assert.Equal("", result.GetProperty("refused").GetString());
    }

    [Fact]
    public async Task An_experimental_outbound_policy_is_accepted_updated_and_refused_where_it_cannot_apply()
    {
        var result = await fixture.RunAsync("netpolicy.mjs", "outbound-policy");

        Assert.True(result.GetProperty("empty").GetProperty("ok").GetBoolean(), result.GetProperty("empty").ToString());
        // Header replacements apply through the sandbox's egress proxy (tests/Conformance/Network/EgressTests.cs sees them).
        Assert.True(result.GetProperty("headers").GetProperty("ok").GetBoolean(), result.GetProperty("headers").ToString());
        Assert.Contains("created without an experimentalOutboundPolicy", Error(result, "without"), StringComparison.Ordinal);
        Assert.True(result.GetProperty("create").GetProperty("ok").GetBoolean(), result.GetProperty("create").ToString());
    }

    private static string Stdout(JsonElement result, string name) => result.GetProperty(name).GetProperty("stdout").GetString() ?? "";
}
