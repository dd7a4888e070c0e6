namespace TypedSandbox.Security.Tests;

/// <summary>
/// Trees deeper than PATH_MAX made by sandbox code where the engine later deletes them. Volumes cannot be deleted
/// through the protocol (VolumeDelete is outside the subset served), so the tree goes where the engine does delete:
/// a RUN step's scratch layer, removed whether the step fails or not.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class DeepTreeRemovalTests(SecurityEngine engine)
{
    /// <summary>A shell command making a 5000-level tree of <c>d</c> below <paramref name="root"/> (50 steps of 100
    /// levels, a relative <c>cd -P</c> each) and printing its depth.</summary>
    internal static string MakeDeepTree(string root)
    {
        var hundred = string.Join('/', Enumerable.Repeat("d", 100));
        return $"mkdir -p {root} && cd {root} && i=0; while [ $i -lt 50 ]; do mkdir -p {hundred} && cd -P {hundred} 2>/dev/null || exit 1; i=$((i+1)); done; echo $((i*100))";
    }

    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task A_failing_run_step_that_made_a_5000_deep_tree_fails_with_its_own_error_and_leaves_no_scratch()
    {
        var marker = "deep-" + Guid.NewGuid().ToString("N")[..12];
        var image = engine.Client.Images.FromRegistry("busybox:latest").RunCommands($"{MakeDeepTree("/deep")}; echo {marker}; exit 7");

        var error = await Assert.ThrowsAsync<ImageBuildException>(() => image.BuildAsync(engine.App));

        Assert.Contains("exit code 7", error.Message, StringComparison.Ordinal);
        Assert.Contains(marker, error.Message, StringComparison.Ordinal);
        Assert.Contains("5000", error.Message, StringComparison.Ordinal);
        var state = engine.Engine.StateDirectory;
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(state, "writable", "builds")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(state, "images", "tmp")));
    }
}
