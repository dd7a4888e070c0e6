using System.Text.Json;
using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Modal 0.11.1's filesystem calls through its JS SDK against the engine under crun: /tmp kept by snapshotFilesystem,
/// snapshotDirectory mounted elsewhere with mountImage/unmountImage, reloadVolumes, volume subPath (and the attacks it
/// refuses).
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class FilesystemParityTests(FeatureEngineFixture fixture)
{
    [Fact]
    public async Task A_sandbox_from_a_filesystem_snapshot_sees_what_was_written_under_tmp()
    {
        var result = await fixture.RunAsync("fs-parity.mjs", "tmp-in-snapshot");

        Assert.Equal("kept-in-tmp\n", Stdout(result, "read"));
    }

    [Fact]
    public async Task A_directory_snapshot_mounts_read_only_in_another_sandbox_and_unmounts()
    {
        AssertSnapshotMountedAndUnmounted(await fixture.RunAsync("fs-parity.mjs", "snapshot-and-mount"));
    }

    [Fact]
    public async Task A_mounted_image_hides_what_the_path_held_until_unmounted()
    {
        AssertMountHidesAndRestores(await fixture.RunAsync("fs-parity.mjs", "mount-hides"));
    }

    /// <summary>The snapshot-and-mount scenario's result, the same under every runtime.</summary>
    internal static void AssertSnapshotMountedAndUnmounted(JsonElement result)
    {
        Assert.StartsWith("im-", result.GetProperty("imageId").GetString(), StringComparison.Ordinal);
        Assert.Contains("NOT_FOUND: '/work/none' does not exist in the sandbox", Error(result, "missing"), StringComparison.Ordinal);
        Assert.Equal("from-a\nnested\na.txt\nsub\n", Stdout(result, "listing"));
        Assert.NotEqual(0, result.GetProperty("write").GetProperty("code").GetInt32());
        Assert.Contains("Read-only file system", result.GetProperty("write").GetProperty("stderr").GetString(), StringComparison.Ordinal);
        Assert.Contains("already mounted at '/mnt/snap'", Error(result, "twice"), StringComparison.Ordinal);
        Assert.Equal("0\n", Stdout(result, "afterUnmount"));
        Assert.Contains("NOT_FOUND: No image is mounted at '/mnt/snap'", Error(result, "notMounted"), StringComparison.Ordinal);
        Assert.Equal("0\nw\n", Stdout(result, "empty"));
        Assert.Contains("must be an absolute path", Error(result, "relative"), StringComparison.Ordinal);
    }

    /// <summary>The mount-hides scenario's result: the image replaces the path's content, another sandbox sees nothing, unmount gives it back.</summary>
    internal static void AssertMountHidesAndRestores(JsonElement result)
    {
        Assert.Equal("i.txt\nfrom-image\n", Stdout(result, "mounted"));
        Assert.Equal("0\n", Stdout(result, "elsewhere"));
        Assert.Equal("old.txt\nbefore\n", Stdout(result, "after"));
        Assert.True(result.GetProperty("reload").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task ReloadVolumes_succeeds_and_the_sandbox_sees_another_sandboxs_write()
    {
        var result = await fixture.RunAsync("fs-parity.mjs", "reload-volumes", new Dictionary<string, string> { ["VOLUME"] = "fs-reload" });

        Assert.Equal("written-by-a\n", Stdout(result, "seen"));
    }

    [Fact]
    public async Task A_sub_path_mounts_one_directory_and_links_planted_in_the_volume_cannot_redirect_it()
    {
        var result = await fixture.RunAsync("fs-parity.mjs", "sub-path", new Dictionary<string, string> { ["VOLUME"] = "fs-subpath" });

        Assert.Equal("inside\nf.txt\n", Stdout(result, "sub"));
        foreach (var attack in new[] { "absoluteLink", "relativeLink", "linkedParent" })
        {
            Assert.Contains("passes through a symlink or another mount", Error(result, attack), StringComparison.Ordinal);
        }

        Assert.Contains("must not contain '..'", Error(result, "dotDot"), StringComparison.Ordinal);
        Assert.Contains("must be relative to the volume's root", Error(result, "absolute"), StringComparison.Ordinal);
        Assert.Contains("NOT_FOUND: Volume sub path 'project/none' does not exist in the volume", Error(result, "missing"), StringComparison.Ordinal);
    }

    private static string? Stdout(JsonElement result, string name)
    {
        var entry = result.GetProperty(name);
        Assert.True(entry.GetProperty("code").GetInt32() == 0, $"{name}: {entry}");
        return entry.GetProperty("stdout").GetString();
    }
}

/// <summary>Under gVisor (runsc): the same mountImage/unmountImage scenarios (through the image share and a bind in gVisor's kernel).</summary>
[Collection(RunscEngineTests.Name)]
public sealed class RunscFilesystemParityTests(RunscEngineFixture fixture)
{
    [Fact]
    public async Task A_directory_snapshot_mounts_read_only_in_another_sandbox_and_unmounts()
    {
        FilesystemParityTests.AssertSnapshotMountedAndUnmounted(await fixture.RunAsync("fs-parity.mjs", "snapshot-and-mount"));
    }

    [Fact]
    public async Task A_mounted_image_hides_what_the_path_held_until_unmounted()
    {
        FilesystemParityTests.AssertMountHidesAndRestores(await fixture.RunAsync("fs-parity.mjs", "mount-hides"));
    }
}
