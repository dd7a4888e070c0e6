namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>
/// Directory snapshots, image mounts, volume reloads, volume sub paths and /tmp in filesystem snapshots through the
/// client against the real engine (crun; image mounts under gVisor too, through the per-sandbox runtime).
/// </summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class FilesystemMountTests(EngineFixture fixture)
{
    [Theory]
    [InlineData(null)]
    [InlineData("gvisor")]
    public async Task A_directory_snapshot_is_mounted_read_only_in_another_sandbox_and_unmounted(string? runtime)
    {
        Image directory;
        await using (var source = await fixture.CreateSandboxAsync())
        {
            Assert.Equal(0, (await source.RunAsync(["sh", "-c", "mkdir -p /srv/out && echo result > /srv/out/r.txt"])).ExitCode);
            directory = await source.SnapshotDirectoryAsync("/srv/out");
        }

        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Runtime = runtime });
        Assert.Equal(0, (await sandbox.RunAsync(["sh", "-c", "mkdir -p /opt/in && echo before > /opt/in/old.txt"])).ExitCode);
        await sandbox.MountImageAsync("/opt/in", directory);
        Assert.Equal("r.txt\nresult\n", (await sandbox.RunAsync(["sh", "-c", "ls /opt/in && cat /opt/in/r.txt"])).Stdout);
        Assert.Contains("Read-only file system", (await sandbox.RunAsync(["sh", "-c", "echo x > /opt/in/w"])).Stderr, StringComparison.Ordinal);

        await sandbox.UnmountImageAsync("/opt/in");
        Assert.Equal("old.txt\nbefore\n", (await sandbox.RunAsync(["sh", "-c", "ls -A /opt/in && cat /opt/in/old.txt"])).Stdout);
        await Assert.ThrowsAsync<NotFoundException>(() => sandbox.UnmountImageAsync("/opt/in"));
    }

    [Fact]
    public async Task A_memory_snapshot_sandbox_refuses_image_mounts_with_the_reason()
    {
        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions { ExperimentalEnableSnapshot = true, BlockNetwork = true });

        var refused = await Assert.ThrowsAsync<ConflictException>(() => sandbox.MountImageAsync("/opt/in"));

        Assert.Contains("memory snapshots enabled", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task What_a_sandbox_wrote_under_tmp_is_in_its_filesystem_snapshot()
    {
        Image snapshot;
        await using (var original = await fixture.CreateSandboxAsync())
        {
            Assert.Equal(0, (await original.RunAsync(["sh", "-c", "echo tmp-kept > /tmp/x"])).ExitCode);
            snapshot = await original.SnapshotFilesystemAsync();
        }

        await using var restored = await fixture.Client.Sandboxes.CreateAsync(fixture.App, snapshot);
        Assert.Equal("tmp-kept\n", (await restored.RunAsync(["cat", "/tmp/x"])).Stdout);
    }

    [Fact]
    public async Task A_sub_path_mount_shows_one_directory_and_a_planted_symlink_is_refused()
    {
        var volume = await fixture.Client.Volumes.FromNameAsync("client-subpath-" + Guid.NewGuid().ToString("N")[..8], createIfMissing: true);
        await using var writer = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Volumes = new Dictionary<string, Volume> { ["/v"] = volume } });
        Assert.Equal(0, (await writer.RunAsync(["sh", "-c", "mkdir -p /v/a/b && echo deep > /v/a/b/f && ln -s / /v/root"])).ExitCode);

        await using (var reader = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Volumes = new Dictionary<string, Volume> { ["/b"] = volume.WithSubPath("a/b") } }))
        {
            Assert.Equal("deep\n", (await reader.RunAsync(["cat", "/b/f"])).Stdout);
            // Shared live: a write through the whole volume shows at once; reloadVolumes succeeds.
            Assert.Equal(0, (await writer.RunAsync(["sh", "-c", "echo later > /v/a/b/g"])).ExitCode);
            await reader.ReloadVolumesAsync();
            Assert.Equal("later\n", (await reader.RunAsync(["cat", "/b/g"])).Stdout);
        }

        var refused = await Assert.ThrowsAsync<InvalidArgumentException>(() =>
            fixture.CreateSandboxAsync(new SandboxCreateOptions { Volumes = new Dictionary<string, Volume> { ["/r"] = volume.WithSubPath("root/etc") } }));
        Assert.Contains("passes through a symlink", refused.Message, StringComparison.Ordinal);
    }
}
