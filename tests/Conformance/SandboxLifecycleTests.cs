using System.Text.Json;
using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>Sandbox wait/poll/terminate, fromId, the entrypoint form of create, and errors for bad input.</summary>
[Collection(EngineTests.Name)]
public sealed class SandboxLifecycleTests(EngineFixture fixture)
{
    [Fact]
    public async Task Wait_and_poll_follow_the_entrypoint_to_its_exit_code()
    {
        var result = await fixture.RunScenarioAsync("sandbox-wait-poll");

        Assert.Equal(JsonValueKind.Null, result.GetProperty("before").ValueKind);
        Assert.Equal(5, result.GetProperty("code").GetInt32());
        Assert.Equal(5, result.GetProperty("after").GetInt32());
    }

    [Fact]
    public async Task Terminate_ends_the_sandbox_with_137_and_refuses_later_execs()
    {
        var result = await fixture.RunScenarioAsync("sandbox-terminate");

        Assert.Equal(JsonValueKind.Null, result.GetProperty("before").ValueKind);
        Assert.Equal(137, result.GetProperty("code").GetInt32());
        AssertFailed(result, "execAfterTerminate", "ClientError", "FAILED_PRECONDITION");
    }

    [Fact]
    public async Task FromId_reaches_the_same_running_sandbox()
    {
        var result = await fixture.RunScenarioAsync("sandbox-from-id");

        Assert.True(result.GetProperty("sameId").GetBoolean());
        Assert.Equal("remembered\n", result.GetProperty("stdout").GetString());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("poll").ValueKind);
    }

    [Fact]
    public async Task The_entrypoint_form_streams_its_output_and_reports_its_exit_code()
    {
        var result = await fixture.RunScenarioAsync("sandbox-entrypoint");

        Assert.Equal("from-entrypoint\n", result.GetProperty("stdout").GetString());
        Assert.Equal("to-stderr\n", result.GetProperty("stderr").GetString());
        Assert.Equal(9, result.GetProperty("code").GetInt32());
        SandboxIdForm.Assert(result.GetProperty("id").GetString(), v2: true);
    }

    [Fact]
    public async Task The_entrypoint_form_works_on_the_V1_create_path_too()
    {
        var result = await fixture.RunScenarioAsync("sandbox-entrypoint", extraEnvironment: new Dictionary<string, string> { ["MODAL_SANDBOX_V2"] = "0" });

        SandboxIdForm.Assert(result.GetProperty("id").GetString(), v2: false);
        Assert.Equal("from-entrypoint\n", result.GetProperty("stdout").GetString());
        Assert.Equal(9, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Bad_input_gets_clear_errors_and_the_engine_keeps_serving()
    {
        var result = await fixture.RunScenarioAsync(
            "bad-input",
            extraEnvironment: new Dictionary<string, string> { ["MISSING_IMAGE"] = $"127.0.0.1:{fixture.Engine.Registry.Port}/library/does-not-exist:1" });

        var missingImage = Error(result, "missingImage");
        Assert.Contains("does-not-exist", missingImage, StringComparison.Ordinal);
        Assert.Contains("not found", missingImage, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("NOT_FOUND", Error(result, "unknownSandbox"), StringComparison.Ordinal);
        Assert.Contains("24 h", Error(result, "tooLong"), StringComparison.Ordinal);
        Assert.Contains("INVALID_ARGUMENT", Error(result, "emptyCommand"), StringComparison.Ordinal);
        Assert.Equal("NotFoundError", result.GetProperty("missingApp").GetProperty("error").GetProperty("name").GetString());

        // Still serving: a normal scenario passes after the bad requests.
        var after = await fixture.RunScenarioAsync("exec-exit-codes");
        Assert.Equal(7, after.GetProperty("seven").GetInt32());
    }
}
