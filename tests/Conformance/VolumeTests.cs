using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>Named volumes through Modal's JS SDK: created on demand, shared between sandboxes, read-only mounts.</summary>
[Collection(FeatureEngineTests.Name)]
public sealed class VolumeTests(FeatureEngineFixture fixture)
{
    [Fact]
    public async Task Data_written_by_one_sandbox_is_read_by_the_next()
    {
        var result = await fixture.RunAsync("volumes.mjs", "write-then-read", new Dictionary<string, string> { ["VOLUME"] = "handover" });

        Assert.Equal("NotFoundError", ErrorClass(result, "missing"));
        Assert.True(result.GetProperty("sameId").GetBoolean());
        Assert.Equal(0, result.GetProperty("wrote").GetProperty("code").GetInt32());
        Assert.Equal("persisted\n", result.GetProperty("read").GetProperty("stdout").GetString());
        Assert.Equal(0, result.GetProperty("read").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Two_running_sandboxes_share_a_volume_and_a_read_only_mount_refuses_writes()
    {
        var result = await fixture.RunAsync("volumes.mjs", "shared-and-read-only", new Dictionary<string, string> { ["VOLUME"] = "shared" });

        Assert.Equal("from-a\n", result.GetProperty("seenByB").GetProperty("stdout").GetString());
        Assert.Equal("from-a\nfrom-b\n", result.GetProperty("seenByA").GetProperty("stdout").GetString());
        Assert.Equal("from-a\nfrom-b\n", result.GetProperty("readOnlyRead").GetProperty("stdout").GetString());
        var denied = result.GetProperty("readOnlyWrite");
        Assert.NotEqual(0, denied.GetProperty("code").GetInt32());
        Assert.Contains("Read-only file system", denied.GetProperty("stderr").GetString(), StringComparison.Ordinal);
        Assert.Equal("no\n", result.GetProperty("deniedExists").GetProperty("stdout").GetString());
    }

    [Fact]
    public async Task Bad_mount_paths_names_and_sub_paths_are_refused_clearly()
    {
        var result = await fixture.RunAsync("volumes.mjs", "bad-mounts", new Dictionary<string, string> { ["VOLUME"] = "checked" });

        Assert.Contains("INVALID_ARGUMENT: Mount path 'data' is not absolute", Error(result, "relative"), StringComparison.Ordinal);
        Assert.Contains("is the root directory", Error(result, "root"), StringComparison.Ordinal);
        Assert.Contains("Volume name 'bad name!' contains ' '", Error(result, "badName"), StringComparison.Ordinal);
        Assert.Contains("must not contain '..'", Error(result, "subPath"), StringComparison.Ordinal);
    }

    private static string ErrorClass(System.Text.Json.JsonElement result, string name)
    {
        Error(result.GetProperty(name), name, out var errorClass);
        return errorClass;
    }
}
