namespace TypedSandbox.Security.Tests;

/// <summary>
/// mountImage under gVisor hands images in through a per-sandbox share and binds them inside gVisor's kernel with a
/// helper the engine alone starts with CAP_SYS_ADMIN. The sandbox's own code, root inside, must gain nothing from
/// that: the image stays read-only, it can neither mount nor unmount, the helper does nothing when it runs it, the
/// share holds only its own images, and a target redirected onto the agent's directory or the share is refused.
/// </summary>
[Collection(RunscAttacks.Name)]
public sealed class GvisorImageMountTests(RunscSecurityEngine engine)
{
    private const string Helper = "/.typedsandbox/ld-linux-x86-64.so.2 --library-path /.typedsandbox /.typedsandbox/typedsandbox-agent mount-helper";

    [Fact]
    public async Task Sandbox_code_cannot_write_the_image_mount_or_unmount_itself_or_reach_another_sandboxs_image()
    {
        Image mine, theirs;
        await using (var source = await engine.CreateSandboxAsync())
        {
            Assert.Equal(0, (await source.RunAsync(["sh", "-c", "mkdir -p /a /b && echo image-a > /a/f && echo secret-b > /b/f"])).ExitCode);
            mine = await source.SnapshotDirectoryAsync("/a");
            theirs = await source.SnapshotDirectoryAsync("/b");
        }

        await using var other = await engine.CreateSandboxAsync();
        await other.MountImageAsync("/opt/b", theirs);
        await using var sandbox = await engine.CreateSandboxAsync();
        await sandbox.MountImageAsync("/opt/a", mine);

        var result = await sandbox.RunAsync(["sh", "-c", $"""
            echo write:$(echo x 2>&1 > /opt/a/w | grep -c 'Read-only file system')
            echo share:$(ls /dev/.typedsandbox-images | tr '\n' ' ')
            echo other:$(grep -rl secret-b /dev/.typedsandbox-images /opt 2>/dev/null | wc -l)
            mkdir -p /mnt/t /mnt/h
            mount -t tmpfs none /mnt/t 2>/dev/null; echo tmpfs:$?
            mount -o bind /dev/.typedsandbox-images/1 /mnt/t 2>/dev/null; echo bind:$?
            umount /opt/a 2>/dev/null; echo umount:$? $(cat /opt/a/f)
            {Helper} mount-empty /mnt/h 1m 2>/dev/null; echo helper:$?
            {Helper} unmount /opt/a /dev/.typedsandbox-images/1 2>/dev/null; echo helper-unmount:$? $(cat /opt/a/f)
            echo mounts:$(grep -c -e ' /mnt/t ' -e ' /mnt/h ' /proc/mounts)
            """]);

        Assert.Equal(
            "write:1\nshare:1\nother:0\ntmpfs:1\nbind:1\numount:1 image-a\nhelper:1\nhelper-unmount:1 image-a\nmounts:0\n",
            result.Stdout);
        Assert.Equal("secret-b\n", (await other.RunAsync(["cat", "/opt/b/f"])).Stdout);
    }

    [Fact]
    public async Task A_target_a_symlink_leads_onto_the_agent_the_share_or_proc_is_refused()
    {
        await using var sandbox = await engine.CreateSandboxAsync();
        Assert.Equal(0, (await sandbox.RunAsync(["sh", "-c", "mkdir -p /i && echo planted > /i/typedsandbox-agent"])).ExitCode);
        var image = await sandbox.SnapshotDirectoryAsync("/i");

        foreach (var landsOn in new[] { "/.typedsandbox", "/dev/.typedsandbox-images", "/proc/self" })
        {
            Assert.Equal(0, (await sandbox.RunAsync(["sh", "-c", $"mkdir -p /opt && ln -sfn {landsOn} /opt/redirect"])).ExitCode);

            var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => sandbox.MountImageAsync("/opt/redirect", image));

            Assert.Contains("where nothing may be mounted", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal("alive\n", (await sandbox.RunAsync(["echo", "alive"])).Stdout);
        Assert.Equal("", (await sandbox.RunAsync(["ls", "/dev/.typedsandbox-images"])).Stdout);
    }
}
