namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>Tunnels, tunnel activity and filesystem snapshots with sandboxes isolated by gVisor (runsc).</summary>
[Collection(RunscEngineTests.Name)]
public sealed class RunscNetworkTests(RunscEngineFixture fixture)
{
    // busybox httpd itself drops a connection now and then on gVisor's host network stack (also for clients inside the
    // sandbox), so the web server here is Python's.
    private static readonly Dictionary<string, string> PythonServer = new() { ["TEST_IMAGE"] = "python:3.13-slim", ["SERVER"] = "python" };

    [Fact]
    public async Task A_web_server_answers_through_its_tunnel_under_gVisor()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "tunnel-http", PythonServer);

        TunnelTests.AssertServedAndClosed(result);
    }

    [Fact]
    public async Task A_web_server_answers_through_its_tunnel_under_gVisor_with_a_blocked_network()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "tunnel-http", new Dictionary<string, string>(PythonServer) { ["BLOCK_NETWORK"] = "1" });

        TunnelTests.AssertServedAndClosed(result);
    }

    [Fact]
    public async Task Eight_mebibytes_cross_a_tunnel_each_way_under_gVisor()
    {
        // Blocked network (gVisor's own network stack): on the host stack (open network) this gVisor build fails
        // busybox nc's own blocking writes with EAGAIN inside the sandbox ("nc: write error"), tunnel or not.
        var result = await NetworkScenarios.RunAsync(fixture, "tunnel-large", new Dictionary<string, string> { ["BLOCK_NETWORK"] = "1" });

        TunnelTests.AssertLargeTransfers(result);
    }

    [Fact]
    public async Task An_open_tunnel_connection_keeps_a_gVisor_sandbox_alive()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "idle-tunnel-keeps-alive");

        Assert.Equal(124, result.GetProperty("witnessCode").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("pollWhileConnected").ValueKind);
        Assert.Equal("first\nsecond\n", result.GetProperty("stdout").GetString());
        Assert.Equal("IdleTimeout", fixture.Engine.Host.Services.GetSandboxResult(result.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task A_filesystem_snapshot_of_a_gVisor_sandbox_keeps_its_files()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "snapshot-filesystem");

        Assert.Equal(
            "kept\nchanged\nkept\nnew.txt\ngroup-gone\nlater-gone\ntmp-gone\nimage-intact\n",
            NetworkScenarios.Exec(result.GetProperty("check")).Stdout);
        Assert.Equal(("replaced.txt\nchanged\n", "", 0), NetworkScenarios.Exec(result.GetProperty("chained")));
    }
}
