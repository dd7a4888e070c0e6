using System.Net;
using System.Text;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Network;
using TypedSandbox.Server.Tests.Isolation;
using TypedSandbox.Testing;

namespace TypedSandbox.Server.Tests.Network;

/// <summary>
/// Real sandboxes behind their egress proxy, against servers in a namespace the test made: allowed names get through
/// over HTTP (Host) and TLS (SNI), other names and raw addresses are refused, the address the sandbox picked is not
/// trusted, and plain HTTP requests carry the replaced header.
/// </summary>
[Collection(SandboxTests.Name)]
public sealed class EgressProxyTests(SandboxHost host, EgressServerNamespace servers) : IClassFixture<EgressServerNamespace>
{
    // An address no test server has: redirected to the proxy before it could go anywhere.
    private const string Elsewhere = "192.0.2.1";

    [SkippableTheory]
    [InlineData("crun")]
    [InlineData("runsc")]
    public async Task Allowed_names_get_through_by_host_and_sni_and_everything_else_is_refused(string runtime)
    {
        await using var sandbox = await StartAsync(runtime, new EgressRules([EgressRules.ParseDomain("*.egress.test")], []));

        var http = await Http(sandbox, servers.Address, "api.egress.test", "/hello.txt");
        var pickedAddress = await Http(sandbox, Elsewhere, "api.egress.test", "/hello.txt");
        var otherName = await Http(sandbox, servers.Address, "other.test", "/hello.txt");
        var rawAddress = await Http(sandbox, servers.Address, servers.Address, "/hello.txt");
        var tls = await TlsFirstBytes(sandbox, servers.Address, "api.egress.test");
        var tlsOtherName = await TlsFirstBytes(sandbox, servers.Address, "other.test");
        var tlsNoName = await TlsFirstBytes(sandbox, servers.Address, null);
        var otherPort = await Run.ShAsync(sandbox, $"echo hi | nc -w 3 {servers.Address} 8443");

        Assert.EndsWith("\r\n\r\n" + EgressServerNamespace.Hello, http, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n" + EgressServerNamespace.Hello, pickedAddress, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", otherName, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", rawAddress, StringComparison.Ordinal);
        // The server's first record: a handshake or an alert from openssl, either way TLS from the real server.
        Assert.Matches("^1[56] 03 0[1-4]$", tls);
        Assert.Equal("", tlsOtherName);
        Assert.Equal("", tlsNoName);
        Assert.NotEqual(0, otherPort.Exit.ExitCode);
    }

    [SkippableFact]
    public async Task Plain_http_requests_carry_the_replaced_header()
    {
        var replacement = HeaderReplacement.Create("api.egress.test", new Dictionary<string, string> { ["X-Token"] = "set-by-the-engine" });
        await using var sandbox = await StartAsync("crun", new EgressRules([EgressRules.ParseDomain("api.egress.test")], [replacement]));

        var response = await Http(sandbox, servers.Address, "api.egress.test", "/cgi-bin/token", "X-Token: from-the-sandbox\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        Assert.EndsWith("\ntoken=set-by-the-engine\n", response, StringComparison.Ordinal);
    }

    private async Task<IRunningContainer> StartAsync(string runtime, EgressRules rules)
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        Skip.If(servers.SkipReason is not null, servers.SkipReason);
        Skip.If(runtime == "runsc" && HostCheck.FindExecutable("runsc") is null, "runsc is not installed (apt-get install runsc)");
        var address = IPAddress.Parse(servers.Address);
        var options = host.Options(runtime) with
        {
            EgressHosts = new Dictionary<string, IPAddress> { ["api.egress.test"] = address, ["other.test"] = address },
            // A runtime per sandbox here, never disposed: no network made ahead for a next sandbox.
            OpenNetworkAhead = false,
        };
        var spec = host.Spec(network: NetworkPolicy.Open with { Egress = rules });
        return await ContainerRuntimeFactory.Create(options).StartAsync(spec, CancellationToken.None);
    }

    private static async Task<string> Http(IRunningContainer sandbox, string address, string hostHeader, string path, string extraHeaders = "")
    {
        var request = $"GET {path} HTTP/1.0\\r\\nHost: {hostHeader}\\r\\n{extraHeaders.Replace("\r\n", "\\r\\n", StringComparison.Ordinal)}\\r\\n";
        return (await Run.ShAsync(sandbox, $"printf '{request}' | nc -w 10 {address} 80")).Out;
    }

    // busybox has no TLS client that takes a name without resolving it: the ClientHello is written out byte by byte.
    private static async Task<string> TlsFirstBytes(IRunningContainer sandbox, string address, string? serverName)
    {
        var hello = new StringBuilder();
        foreach (var b in ClientHelloBytes.Build(serverName))
        {
            hello.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
        }

        var result = await Run.ShAsync(sandbox, $"printf '{hello}' | nc -w 10 {address} 443 | head -c 3 | od -An -tx1");
        return result.Out.Trim();
    }
}
