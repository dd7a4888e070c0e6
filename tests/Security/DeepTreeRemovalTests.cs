using TypedSandbox.Testing;

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

    /// <summary>A tree deeper than PATH_MAX cannot be copied into the image store: the build fails with a short error and
    /// leaves nothing behind.</summary>
    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task A_succeeding_run_step_with_a_5000_deep_tree_fails_its_build_cleanly_with_a_short_error()
    {
        var image = engine.Client.Images.FromRegistry("busybox:latest").RunCommands($"{MakeDeepTree("/deep")} && echo {Guid.NewGuid():N}");

        var error = await Assert.ThrowsAsync<ImageBuildException>(() => image.BuildAsync(engine.App));

        Assert.True(error.Message.Contains("File name too long", StringComparison.Ordinal), error.Message[..Math.Min(2000, error.Message.Length)]);
        Assert.True(error.Message.Length < 8192, $"a {error.Message.Length}-character error");
        var state = engine.Engine.StateDirectory;
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(state, "writable", "builds")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(state, "images", "tmp")));
    }

    /// <summary>
    /// An engine killed after its sandbox made a 5000-deep tree in its writable layer, whose bundle was then removed (the
    /// engine died between removing the bundle and the writable layer): the next start removes the orphan layer.
    /// </summary>
    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task An_orphan_writable_layer_holding_a_5000_deep_tree_is_removed_at_the_next_start()
    {
        var state = TestEngine.NewStateDirectory();
        string id;
        try
        {
            using (var child = CrashLeftoverTests.StartEngineProcess(state, CrashLeftoverTests.FreePort(), engine.Engine.Registry.Url))
            {
                try
                {
                    await using var client = await SecurityEngine.CreateClientFromProfileAsync(state);
                    var app = await CrashLeftoverTests.RetryAsync(() => client.Apps.FromNameAsync("deep-orphan", createIfMissing: true), child);
                    var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
                        new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) });
                    Assert.Equal(0, (await sandbox.RunAsync(["true"])).ExitCode);
                    id = EngineFootprint.Bundles(state).Single();
                    var made = await sandbox.RunAsync(["sh", "-c", MakeDeepTree("/deep")]);
                    Assert.Equal("5000\n", made.Stdout);
                }
                finally
                {
                    child.Kill(); // SIGKILL: no cleanup of any kind runs.
                    await child.WaitForExitAsync();
                }
            }

            var bundle = Path.Combine(state, "sandboxes", "bundles", id);
            foreach (var mount in EngineFootprint.MountsUnder(bundle + "/"))
            {
                await ExternalProcess.RunAsync("umount", ["-l", mount], "/", null, TimeSpan.FromSeconds(30));
            }

            // The engine's own cleanup deletes crun's record of the container before its bundle; a bundle removed by hand
            // here must not leave that record behind (crun's root is shared by every engine on the host).
            await ExternalProcess.RunAsync("crun", ["--root", "/run/typedsandbox/crun", "delete", "--force", id], "/", null, TimeSpan.FromSeconds(30));
            Assert.False(Directory.Exists(Path.Combine("/run/typedsandbox/crun", id)), "crun's record of the killed engine's sandbox is still there");
            // Its network namespace too: the next start sweeps a nameless one only once it is older than the sweep's grace.
            if (File.Exists("/run/netns/tsb-" + id))
            {
                await ExternalProcess.RunAsync("ip", ["netns", "delete", "tsb-" + id], "/", null, TimeSpan.FromSeconds(30));
            }

            Assert.False(File.Exists("/run/netns/tsb-" + id), "the killed engine's sandbox's network namespace is still there");
            var removed = await ExternalProcess.RunAsync("rm", ["-rf", "--one-file-system", "--", bundle], "/", null, TimeSpan.FromMinutes(2));
            Assert.Equal(0, removed.ExitCode);
            var writable = Path.Combine(state, "writable", "sandboxes", id);
            Assert.True(Directory.Exists(writable), "the dead engine left no writable layer to orphan");

            await using (await TestEngine.StartAsync("crun", engine.Engine.Registry, state))
            {
                Assert.False(Directory.Exists(writable), "the orphan writable layer outlived the start");
            }
        }
        finally
        {
            foreach (var mount in EngineFootprint.MountsUnder(state + "/"))
            {
                await ExternalProcess.RunAsync("umount", ["-l", mount], "/", null, TimeSpan.FromSeconds(30));
            }

            await ExternalProcess.RunAsync("rm", ["-rf", "--one-file-system", "--", state], "/", null, TimeSpan.FromMinutes(2));
        }
    }
}
