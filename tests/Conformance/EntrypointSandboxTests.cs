using System.Text.Json;
using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>Sandboxes created with a command: output while it runs, stdin to it, its exit code ends the sandbox.</summary>
[Collection(FeatureEngineTests.Name)]
public sealed class EntrypointSandboxTests(FeatureEngineFixture fixture)
{
    [Theory]
    [InlineData("1")]
    [InlineData("0")]
    public async Task Output_streams_while_the_entrypoint_runs_and_stdin_reaches_it(string sandboxV2)
    {
        var result = await fixture.RunAsync("entrypoint.mjs", "interactive", new Dictionary<string, string> { ["MODAL_SANDBOX_V2"] = sandboxV2 });

        // "ready" was read while the entrypoint was blocked reading stdin.
        Assert.Equal("ready\n", result.GetProperty("ready").GetString());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("pollWhileRunning").ValueKind);
        Assert.Equal("ready\ngot:hello\n", result.GetProperty("afterHello").GetString());
        Assert.Equal("ready\ngot:hello\ngot:quit\n", result.GetProperty("rest").GetString());
        Assert.Equal("err-ready\n", result.GetProperty("stderr").GetString());
        Assert.Equal(42, result.GetProperty("code").GetInt32());
        Assert.Equal(42, result.GetProperty("poll").GetInt32());
        // An exec after the exit is refused: V2 by the command router (FAILED_PRECONDITION); V1 already when the SDK
        // asks the engine for the finished task's command router.
        if (sandboxV2 == "0")
        {
            AssertFailed(result, "afterExit", "Error", "Command router access is not available for this sandbox");
        }
        else
        {
            AssertFailed(result, "afterExit", "ClientError", "FAILED_PRECONDITION");
        }

        SandboxIdForm.Assert(result.GetProperty("id").GetString(), sandboxV2);
    }

    [Fact]
    public async Task Execs_run_beside_the_entrypoint_until_it_exits()
    {
        var result = await fixture.RunAsync("entrypoint.mjs", "exec-alongside");

        Assert.Equal("beside\n", result.GetProperty("exec").GetProperty("stdout").GetString());
        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal(0, result.GetProperty("poll").GetInt32());
    }

    [Fact]
    public async Task A_python_http_server_entrypoint_serves_inside_the_sandbox()
    {
        var result = await fixture.RunAsync("entrypoint.mjs", "http-server");

        Assert.Equal("served-page\n", result.GetProperty("fetch").GetProperty("stdout").GetString());
        Assert.True(result.GetProperty("serverLogged").GetBoolean());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("poll").ValueKind);
    }
}
