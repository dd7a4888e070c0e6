using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>Sandbox names: unique among an app's running sandboxes, found by fromName while running, free once stopped.</summary>
[Collection(FeatureEngineTests.Name)]
public sealed class NamedSandboxTests(FeatureEngineFixture fixture)
{
    [Fact]
    public async Task A_name_is_unique_among_running_sandboxes_of_an_app_and_free_again_once_the_sandbox_stops()
    {
        var result = await fixture.RunAsync("named.mjs", "names", new Dictionary<string, string> { ["TEST_APP"] = "named" });

        Error(result.GetProperty("duplicate"), "duplicate", out var duplicateClass);
        Assert.Equal("AlreadyExistsError", duplicateClass);
        Assert.Contains("'worker-1' already exists", Error(result, "duplicate"), StringComparison.Ordinal);
        Assert.Equal(result.GetProperty("firstId").GetString(), result.GetProperty("foundId").GetString());
        Assert.Equal("via-name\n", result.GetProperty("foundExec").GetProperty("stdout").GetString());
        Error(result.GetProperty("afterStop"), "afterStop", out var afterStopClass);
        Assert.Equal("NotFoundError", afterStopClass);
        Assert.Equal(result.GetProperty("otherAppId").GetString(), result.GetProperty("otherStillThere").GetString());
        Assert.Equal(result.GetProperty("reusedId").GetString(), result.GetProperty("foundReused").GetString());
        Assert.NotEqual(result.GetProperty("firstId").GetString(), result.GetProperty("reusedId").GetString());
        Error(result.GetProperty("unknownApp"), "unknownApp", out var unknownAppClass);
        Assert.Equal("NotFoundError", unknownAppClass);
    }

    [Fact]
    public async Task A_sandbox_whose_entrypoint_exits_gives_its_name_back()
    {
        var result = await fixture.RunAsync("named.mjs", "entrypoint-frees-name", new Dictionary<string, string> { ["TEST_APP"] = "named-exit" });

        Error(result.GetProperty("lookup"), "lookup", out var lookupClass);
        Assert.Equal("NotFoundError", lookupClass);
        Assert.NotEqual(result.GetProperty("firstId").GetString(), result.GetProperty("againId").GetString());
    }

    [Fact]
    public async Task Name_rules_are_enforced()
    {
        var result = await fixture.RunAsync("named.mjs", "bad-names", new Dictionary<string, string> { ["TEST_APP"] = "named-rules" });

        foreach (var name in new[] { "space", "slash" })
        {
            Error(result.GetProperty(name), name, out var errorClass);
            Assert.Equal("InvalidError", errorClass);
        }

        Assert.Contains("INVALID_ARGUMENT: Sandbox name 'xxxx", Error(result, "tooLong"), StringComparison.Ordinal);
        Assert.Contains("at most 63 characters", Error(result, "tooLong"), StringComparison.Ordinal);
        Assert.True(result.GetProperty("longest").GetProperty("ok").GetBoolean());
        Assert.Contains("INVALID_ARGUMENT: Sandbox name 'has space' contains ' '", Error(result, "raw"), StringComparison.Ordinal);
    }
}
