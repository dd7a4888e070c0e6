using System.Text.Json;
using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Sandbox identity through Modal's JS SDK against the real engine: names set on a running sandbox, connect tokens
/// answered by the engine's forward, readiness probes behind waitUntilReady, Modal's placement names, the experimental
/// options allow-list, and makeDirectory on an existing file.
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class IdentityTests(FeatureEngineFixture fixture)
{
    [Fact]
    public async Task A_name_set_on_a_running_sandbox_is_found_by_fromName_held_once_and_freed_when_it_stops()
    {
        var result = await fixture.RunAsync("identity.mjs", "names", new Dictionary<string, string> { ["TEST_APP"] = "identity-names" });

        Assert.Equal(result.GetProperty("firstId").GetString(), result.GetProperty("found").GetString());
        Error(result.GetProperty("taken"), "taken", out var takenClass);
        Assert.Equal("AlreadyExistsError", takenClass);
        Assert.Contains("already has the name 'named-later'", Error(result.GetProperty("again"), "again", out var againClass), StringComparison.Ordinal);
        Assert.Equal("ConflictError", againClass);
        Assert.Contains("Sandbox name 'has space' contains ' '", Error(result, "invalid"), StringComparison.Ordinal);
        Error(result.GetProperty("afterStop"), "afterStop", out var afterStopClass);
        Assert.Equal("NotFoundError", afterStopClass);
        Assert.Equal(result.GetProperty("secondId").GetString(), result.GetProperty("reused").GetString());
        Error(result.GetProperty("onFinished"), "onFinished", out var finishedClass);
        Assert.Equal("ConflictError", finishedClass);
    }

    [Fact]
    public async Task A_connect_token_lets_requests_through_to_its_sandbox_only_and_a_tcp_probe_waits_for_the_server()
    {
        var result = await fixture.RunAsync("identity.mjs", "connect-and-probe", new Dictionary<string, string> { ["TEST_APP"] = "identity-connect" });

        Assert.StartsWith("http://127.0.0.1:", result.GetProperty("url").GetString(), StringComparison.Ordinal);
        AssertResponse(result.GetProperty("withHeader"), 200, "path=/hello user=user-42 auth=");
        AssertResponse(result.GetProperty("withQuery"), 200, "path=/q?a=1 user=user-42 auth=");
        AssertResponse(result.GetProperty("without"), 401, "connect token is required");
        AssertResponse(result.GetProperty("wrongToken"), 403, "not valid for this sandbox");
        AssertResponse(result.GetProperty("foreignToken"), 403, "not valid for this sandbox");
        Assert.Contains("port", Error(result, "badPort"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_exec_probe_gates_waitUntilReady_and_one_that_never_passes_times_out()
    {
        var result = await fixture.RunAsync("identity.mjs", "exec-probe", new Dictionary<string, string> { ["TEST_APP"] = "identity-probe" });

        Assert.True(result.GetProperty("passed").GetProperty("ok").GetBoolean(), result.GetProperty("passed").ToString());
        Assert.Equal(0, result.GetProperty("marker").GetInt32());
        Assert.Contains("Timeout expired", Error(result.GetProperty("timedOut"), "timedOut", out var timeoutClass), StringComparison.Ordinal);
        Assert.Equal("TimeoutError", timeoutClass);
    }

    [Fact]
    public async Task Modal_placement_names_are_accepted_unknown_ones_and_unsupported_experimental_options_are_refused()
    {
        var result = await fixture.RunAsync("identity.mjs", "placement-and-options", new Dictionary<string, string> { ["TEST_APP"] = "identity-placement" });

        Assert.True(result.GetProperty("known").GetProperty("ok").GetBoolean(), result.GetProperty("known").ToString());
        AssertInvalid(result, "badCloud", "Unknown cloud provider 'moon'; use one of aws, gcp, oci, auto");
        AssertInvalid(result, "badRegion", "Unknown region 'moon-base'");
        AssertInvalid(result, "docker", "Experimental option 'enable_docker' is not supported by the local engine");
        AssertInvalid(result, "unknownOption", "Experimental option 'warp_drive' is not supported by the local engine; supported: enable_snapshot, enable_exit_snapshot");
    }

    [Fact]
    public async Task MakeDirectory_on_an_existing_file_is_PathAlreadyExists_and_under_a_file_is_NotADirectory()
    {
        var result = await fixture.RunAsync("identity.mjs", "make-directory", new Dictionary<string, string> { ["TEST_APP"] = "identity-mkdir" });

        Error(result.GetProperty("onFile"), "onFile", out var onFileClass);
        Assert.Equal("SandboxFilesystemPathAlreadyExistsError", onFileClass);
        Error(result.GetProperty("onFileNoParents"), "onFileNoParents", out var noParentsClass);
        Assert.Equal("SandboxFilesystemPathAlreadyExistsError", noParentsClass);
        Error(result.GetProperty("underFile"), "underFile", out var underFileClass);
        Assert.Equal("SandboxFilesystemNotADirectoryError", underFileClass);
    }

    private static void AssertResponse(JsonElement response, int status, string bodyPart)
    {
        Assert.Equal(status, response.GetProperty("status").GetInt32());
        Assert.Contains(bodyPart, response.GetProperty("body").GetString(), StringComparison.Ordinal);
    }

    private static void AssertInvalid(JsonElement result, string name, string message)
    {
        var failure = Failure(result.GetProperty(name), name);
        Assert.Equal(3, failure.Code);
        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
    }
}
