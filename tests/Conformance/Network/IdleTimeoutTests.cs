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

        // An idle sandbox made after it had ended (124) while the exec ran; this one was still running.
        Assert.Equal(124, result.GetProperty("witnessCode").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("pollAfterWitness").ValueKind);
        Assert.Equal(("finished\n", "", 0), NetworkScenarios.Exec(result.GetProperty("long")));
        Assert.Equal("IdleTimeout", fixture.Engine.Host.Services.GetSandboxResult(result.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task Writes_to_the_entrypoint_stdin_keep_the_sandbox_alive()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "idle-stdin-keeps-alive");

        // Written until an idle sandbox made after it had ended: still running then, and it idles out once the writes stop.
        Assert.Equal(124, result.GetProperty("witnessCode").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("pollWhileWriting").ValueKind);
        var lines = result.GetProperty("lines").GetInt32();
        Assert.Equal(string.Concat(Enumerable.Range(0, lines).Select(i => $"line {i}\n")), result.GetProperty("stdout").GetString());
        Assert.Equal("IdleTimeout", fixture.Engine.Host.Services.GetSandboxResult(result.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task An_open_tunnel_connection_keeps_the_sandbox_alive()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "idle-tunnel-keeps-alive");

        // Held open, with nothing else active, until an idle sandbox made after it had ended: still running, and both
        // writes arrived.
        Assert.Equal(124, result.GetProperty("witnessCode").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("pollWhileConnected").ValueKind);
        Assert.Equal("first\nsecond\n", result.GetProperty("stdout").GetString());
        Assert.Equal("IdleTimeout", fixture.Engine.Host.Services.GetSandboxResult(result.GetProperty("id").GetString()!));
    }
}
