namespace TypedSandbox.Security.Tests;

/// <summary>
/// An image whose symlink redirects a volume's mount point: the runtime follows symlinks inside the rootfs when it
/// mounts, so <c>/data -> /proc</c> would put the volume over /proc and <c>-> /.typedsandbox</c> over the agent (PID 1
/// runs from there). The engine resolves the destination in the image's layers and refuses such a mount.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class MountSymlinkAttackTests(SecurityEngine engine)
{
    [Theory]
    [InlineData("ln -s /proc /data", "/data", "/proc")]
    [InlineData("ln -s /.typedsandbox /data", "/data", "/.typedsandbox")]
    [InlineData("mkdir -p /srv/a && ln -s ../../dev/../sys/fs /srv/a/up && ln -s /srv/a/up /data", "/data/cgroup", "/sys/fs/cgroup")]
    public async Task A_volume_mount_an_image_symlink_redirects_onto_a_runtime_path_is_refused(string link, string mountPath, string landsOn)
    {
        var image = engine.Client.Images.FromRegistry("busybox:latest").RunCommands(link);
        var volume = await engine.Client.Volumes.FromNameAsync("redirect-" + Guid.NewGuid().ToString("N")[..8], createIfMissing: true);

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(async () =>
        {
            await using var sandbox = await engine.Client.Sandboxes.CreateAsync(engine.App, image,
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), Volumes = new Dictionary<string, Volume> { [mountPath] = volume } });
        });

        Assert.Contains($"'{mountPath}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{landsOn}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_volume_mount_an_image_symlink_redirects_to_an_ordinary_directory_still_works()
    {
        var image = engine.Client.Images.FromRegistry("busybox:latest").RunCommands("mkdir -p /srv/store && ln -s /srv/store /data");
        var volume = await engine.Client.Volumes.FromNameAsync("ordinary-" + Guid.NewGuid().ToString("N")[..8], createIfMissing: true);
        await using var sandbox = await engine.Client.Sandboxes.CreateAsync(engine.App, image,
            new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), Volumes = new Dictionary<string, Volume> { ["/data"] = volume } });

        var result = await sandbox.RunAsync(["sh", "-c", "echo kept > /data/file && grep /srv/store /proc/mounts | wc -l && cat /srv/store/file && ls /proc/self/status"]);

        Assert.Equal("1\nkept\n/proc/self/status\n", result.Stdout);
    }
}
