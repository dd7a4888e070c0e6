using TypedSandbox.Testing;
namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>
/// Network access through Modal's JS SDK against a web server in a namespace the test made: open reaches it,
/// blockNetwork leaves loopback only, outboundCidrAllowlist reaches only the listed CIDRs (an empty list reaches
/// nothing), and bad allow-lists (a malformed CIDR or domain) are refused with clear errors.
/// </summary>
[Collection(EngineTests.Name)]
public sealed class NetworkPolicyTests(EngineFixture fixture, WebServerNamespace web) : IClassFixture<WebServerNamespace>
{
    private const string Served = "\r\n\r\nhello from the test namespace\n";

    [Fact]
    public async Task Open_blocked_and_allow_listed_sandboxes_reach_exactly_what_they_should()
    {
        var result = await NetworkScenarios.RunAsync(
            fixture, "network-policy", new Dictionary<string, string> { ["WEB_A"] = web.AddressA, ["WEB_B"] = web.AddressB });

        var open = result.GetProperty("open");
        Assert.EndsWith(Served, NetworkScenarios.Exec(open.GetProperty("a")).Stdout, StringComparison.Ordinal);
        Assert.EndsWith(Served, NetworkScenarios.Exec(open.GetProperty("b")).Stdout, StringComparison.Ordinal);

        var blocked = result.GetProperty("blocked");
        Assert.Equal("lo", NetworkScenarios.Exec(blocked.GetProperty("links")).Stdout.Trim());
        var blockedFetch = NetworkScenarios.Exec(blocked.GetProperty("a"));
        Assert.NotEqual(0, blockedFetch.Code);
        Assert.Empty(blockedFetch.Stdout);

        var allowA = result.GetProperty("allowA");
        Assert.EndsWith(Served, NetworkScenarios.Exec(allowA.GetProperty("a")).Stdout, StringComparison.Ordinal);
        var deniedB = NetworkScenarios.Exec(allowA.GetProperty("b"));
        Assert.NotEqual(0, deniedB.Code);
        Assert.Empty(deniedB.Stdout);

        var nothing = NetworkScenarios.Exec(result.GetProperty("allowNothing").GetProperty("a"));
        Assert.NotEqual(0, nothing.Code);
        Assert.Empty(nothing.Stdout);

        var badCidr = NetworkScenarios.Error(result, "badCidr");
        Assert.Contains("INVALID_ARGUMENT", badCidr, StringComparison.Ordinal);
        Assert.Contains("Invalid CIDR: not-a-cidr", badCidr, StringComparison.Ordinal);
        var domains = NetworkScenarios.Error(result, "domains");
        Assert.Contains("INVALID_ARGUMENT", domains, StringComparison.Ordinal);
        Assert.Contains("'not a domain' is not a domain name", domains, StringComparison.Ordinal);
    }
}
