using System.Text.Json;

namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>
/// sb.tunnels() through Modal's JS SDK: declared ports are forwarded from 127.0.0.1 on the host to the sandbox, a web
/// server in the sandbox answers through its tunnel, and the listeners close with the sandbox.
/// </summary>
[Collection(EngineTests.Name)]
public sealed class TunnelTests(EngineFixture fixture)
{
    [Fact]
    public async Task A_web_server_in_the_sandbox_answers_through_its_tunnel()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "tunnel-http");

        AssertServedAndClosed(result);
    }

    [Fact]
    public async Task Tunnels_work_with_a_blocked_network()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "tunnel-http", new Dictionary<string, string> { ["BLOCK_NETWORK"] = "1" });

        AssertServedAndClosed(result);
    }

    [Fact]
    public async Task Tunnels_work_on_the_V1_create_path()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "tunnel-http", new Dictionary<string, string> { ["MODAL_SANDBOX_V2"] = "0" });

        Assert.Matches("^sb-[0-9A-Za-z]{22}$", result.GetProperty("id").GetString());
        AssertServedAndClosed(result);
    }

    [Fact]
    public async Task A_sandbox_without_ports_has_no_tunnels()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "tunnel-none");

        Assert.Empty(result.GetProperty("tunnels").EnumerateObject());
    }

    [Fact]
    public async Task Ports_declared_twice_or_out_of_range_are_refused()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "tunnel-bad-ports");

        var twice = NetworkScenarios.Error(result, "twice");
        Assert.Contains("INVALID_ARGUMENT", twice, StringComparison.Ordinal);
        Assert.Contains("Port 8000 is declared twice", twice, StringComparison.Ordinal);
        Assert.Contains("70000", NetworkScenarios.Error(result, "outOfRange"), StringComparison.Ordinal);
    }

    internal static void AssertServedAndClosed(JsonElement result)
    {
        Assert.Equal([8000, 8001, 8002], result.GetProperty("ports").EnumerateArray().Select(p => p.GetInt32()));
        var tunnels = result.GetProperty("tunnels");
        var hostPorts = new HashSet<int>();
        foreach (var tunnel in tunnels.EnumerateObject())
        {
            var host = tunnel.Value.GetProperty("host").GetString();
            var port = tunnel.Value.GetProperty("port").GetInt32();
            Assert.Equal("127.0.0.1", host);
            Assert.True(hostPorts.Add(port), $"two tunnels share host port {port}");
            // The plaintext endpoint is reported as both the TLS and the TCP socket (there is no TLS locally).
            Assert.Equal([host, port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                tunnel.Value.GetProperty("tcpSocket").EnumerateArray().Select(e => e.ToString()));
            Assert.Equal($"https://127.0.0.1:{port}", tunnel.Value.GetProperty("url").GetString());
        }

        // A handle without the inline tunnels (fromId) gets the same ones from SandboxGetTunnels.
        Assert.Equal(tunnels.ToString(), result.GetProperty("fetched").ToString());
        var response = result.GetProperty("response");
        Assert.Equal(200, response.GetProperty("status").GetInt32());
        Assert.Equal("hello-through-the-tunnel\n", response.GetProperty("body").GetString());
        // Nothing listens on 8001: the tunnel resets the connection.
        Assert.Contains("fetch failed", NetworkScenarios.Error(result, "nothingListening"), StringComparison.Ordinal);
        // The listener is gone once the sandbox ended.
        Assert.Contains("ECONNREFUSED", NetworkScenarios.Error(result, "afterTerminate"), StringComparison.Ordinal);
    }
}
