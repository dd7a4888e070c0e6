namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>
/// sb.snapshotFilesystem() through Modal's JS SDK: the image it returns starts new sandboxes with the files (new,
/// changed, deleted, replaced directories, and /tmp as Modal keeps it), the source keeps running, and a finished sandbox cannot be snapshotted.
/// </summary>
[Collection(EngineTests.Name)]
public sealed class FilesystemSnapshotTests(EngineFixture fixture)
{
    [Fact]
    public async Task A_snapshot_image_starts_sandboxes_with_the_changed_files()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "snapshot-filesystem");

        Assert.Matches("^im-[0-9a-f]{24}$", result.GetProperty("imageId").GetString());
        Assert.Equal(0, NetworkScenarios.Exec(result.GetProperty("prepared")).Code);
        // The source sandbox kept running after the snapshot.
        Assert.Equal(("kept\n", "", 0), NetworkScenarios.Exec(result.GetProperty("later")));
        var check = NetworkScenarios.Exec(result.GetProperty("check"));
        Assert.Equal(
            "kept\nchanged\nkept\nnew.txt\ngroup-gone\nlater-gone\ntmp-present\nimage-intact\n", check.Stdout);
        // A snapshot of a sandbox started from a snapshot: the replaced directory hides the older files.
        Assert.NotEqual(result.GetProperty("imageId").GetString(), result.GetProperty("secondImageId").GetString());
        Assert.Equal(("replaced.txt\nchanged\n", "", 0), NetworkScenarios.Exec(result.GetProperty("chained")));

        var afterTerminate = NetworkScenarios.Error(result, "afterTerminate");
        Assert.Contains("FAILED_PRECONDITION", afterTerminate, StringComparison.Ordinal);
        Assert.Contains("already finished", afterTerminate, StringComparison.Ordinal);
    }
}
