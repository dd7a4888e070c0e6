namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>
/// idleTimeoutMs through Modal's JS SDK: a sandbox with nothing active ends after the idle period with IDLE_TIMEOUT;
/// a running exec and an open tunnel connection are activity (the entrypoint alone is not).
/// </summary>
[Collection(EngineTests.Name)]
public sealed class IdleTimeoutTests(EngineFixture fixture)
{
    [Fact]
    public async Task An_idle_sandbox_ends_with_IDLE_TIMEOUT()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "idle-timeout");

        Assert.Equal(124, result.GetProperty("code").GetInt32());
        Assert.Equal("IdleTimeout", fixture.Engine.Host.Services.GetSandboxResult(result.GetProperty("id").GetString()!));
        Assert.Contains("FAILED_PRECONDITION", NetworkScenarios.Error(result, "execAfter"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_running_exec_longer_than_the_idle_timeout_keeps_the_sandbox_alive()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "idle-exec-keeps-alive");

        Assert.Equal(("finished\n", "", 0), NetworkScenarios.Exec(result.GetProperty("long")));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("pollAfterExec").ValueKind);
        Assert.Equal("IdleTimeout", fixture.Engine.Host.Services.GetSandboxResult(result.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task Writes_to_the_entrypoint_stdin_keep_the_sandbox_alive()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "idle-stdin-keeps-alive");

        // Written for twice the idle timeout: still running then, and it idles out once the writes stop.
        Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("pollWhileWriting").ValueKind);
        Assert.Equal(string.Concat(Enumerable.Range(0, 8).Select(i => $"line {i}\n")), result.GetProperty("stdout").GetString());
        Assert.Equal("IdleTimeout", fixture.Engine.Host.Services.GetSandboxResult(result.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task An_open_tunnel_connection_keeps_the_sandbox_alive()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "idle-tunnel-keeps-alive");

        // Held open for twice the idle timeout with nothing else active: still running, and both writes arrived.
        Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("pollWhileConnected").ValueKind);
        Assert.Equal("first\nsecond\n", result.GetProperty("stdout").GetString());
        Assert.Equal("IdleTimeout", fixture.Engine.Host.Services.GetSandboxResult(result.GetProperty("id").GetString()!));
    }
}
