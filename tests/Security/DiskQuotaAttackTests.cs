using System.Globalization;
using TypedSandbox.Server.Hosting;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests;

/// <summary>An engine whose writable layers, volumes and RUN steps are limited to <see cref="LimitMiB"/> MiB, so filling them writes little.</summary>
public sealed class SmallDiskSecurityEngine : SecurityEngine
{
    public const int LimitMiB = 64;

    protected override Func<EngineOptions, EngineOptions>? Configure =>
        options => options with { WritableLayerLimitBytes = LimitMiB << 20, VolumeLimitBytes = LimitMiB << 20, BuildStepLimitBytes = LimitMiB << 20 };
}

[CollectionDefinition(Name)]
public sealed class SmallDiskAttacks : ICollectionFixture<SmallDiskSecurityEngine>
{
    public const string Name = "attacks-small-disk";
}

/// <summary>
/// Disk-filling attacks: each writes 4x its limit (256 MiB against 64 MiB) and must get EDQUOT/ENOSPC inside, while
/// what it costs the host (the blocks of the engine's storage image) grows by no more than the limit.
/// </summary>
[Collection(SmallDiskAttacks.Name)]
public sealed class DiskQuotaAttackTests(SmallDiskSecurityEngine engine)
{
    // What a filled limit may cost beyond its data: btrfs metadata (DUP) and the journal of the write.
    private const long SlackBytes = 16L << 20;

    [Fact]
    public async Task Filling_the_writable_layer_past_its_limit_fails_with_a_quota_error_and_spares_the_host()
    {
        var image = await ImageBytesAsync();
        await using var sandbox = await engine.CreateSandboxAsync();

        var result = await sandbox.RunAsync(["sh", "-c", Fill("/fill")]);

        AssertQuotaError(result.Stdout);
        Assert.InRange(await ImageBytesAsync() - image, long.MinValue, (SmallDiskSecurityEngine.LimitMiB << 20) + SlackBytes);
    }

    [Fact]
    public async Task Filling_a_volume_past_its_limit_fails_with_a_quota_error_and_spares_the_host()
    {
        var volume = await engine.Client.Volumes.FromNameAsync("fill-" + Guid.NewGuid().ToString("N")[..8], createIfMissing: true);
        var image = await ImageBytesAsync();
        await using var sandbox = await engine.CreateSandboxAsync(new() { Timeout = TimeSpan.FromMinutes(5), Volumes = new Dictionary<string, TypedSandbox.Volume> { ["/data"] = volume } });

        var result = await sandbox.RunAsync(["sh", "-c", Fill("/data/fill")]);

        AssertQuotaError(result.Stdout);
        Assert.InRange(await ImageBytesAsync() - image, long.MinValue, (SmallDiskSecurityEngine.LimitMiB << 20) + SlackBytes);
    }

    [Fact]
    public async Task A_subvolume_made_inside_a_volume_to_escape_its_limit_is_refused()
    {
        var volume = await engine.Client.Volumes.FromNameAsync("nest-" + Guid.NewGuid().ToString("N")[..8], createIfMissing: true);
        await using var sandbox = await engine.CreateSandboxAsync(
            new() { Timeout = TimeSpan.FromMinutes(5), Volumes = new Dictionary<string, TypedSandbox.Volume> { ["/data"] = volume } }, "python:3.13-slim");

        // BTRFS_IOC_SUBVOL_CREATE, also with junk in the upper 32 bits of the request (the kernel ignores them).
        var result = await sandbox.RunAsync(["python3", "-c", """
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open("/data", os.O_RDONLY | os.O_DIRECTORY)
            for i, request in enumerate([0x5000940e, 0xffffffff5000940e]):
                args = ctypes.create_string_buffer(4096)
                args.raw = bytes(8) + b"escape%d" % i + bytes(4096 - 15)
                rc = libc.ioctl(fd, ctypes.c_ulong(request), args)
                print("ioctl", rc, os.strerror(ctypes.get_errno()) if rc else "created", os.path.isdir("/data/escape%d" % i))
            """]);

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("created", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("True", result.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Inodes: empty files cost only metadata, which the limit counts too, so a 64 MiB layer holds ~180,000 of them and
    /// then refuses more. What the host pays does not grow with each flood: btrfs's copy-on-write churns through the
    /// metadata chunk it has allocated (1 GiB, DUP: 2 GiB of the sparse image at most) and reuses it afterwards.
    /// </summary>
    [Fact(Timeout = 15 * 60 * 1000)]
    public async Task Creating_empty_files_without_bound_stops_at_the_writable_layers_limit()
    {
        const long MetadataChunkPair = 2L << 30;
        var report = new List<string>();
        var image = await ImageBytesAsync();
        for (var round = 0; round < 2; round++)
        {
            await using var sandbox = await engine.CreateSandboxAsync(new() { Timeout = TimeSpan.FromMinutes(8) }, "python:3.13-slim");
            var result = await sandbox.RunAsync(["python3", "-c", CreateFilesUntilRefused]);
            var fields = result.Stdout.Trim().Split(' ');
            report.Add($"round {round}: {result.Stdout.Trim()}, storage image +{(await ImageBytesAsync() - image) >> 20} MiB");

            Assert.True(fields[0] is "EDQUOT" or "ENOSPC", "file creation was not stopped by the limit: " + result.Stdout + result.Stderr);
            Assert.InRange(int.Parse(fields[1], CultureInfo.InvariantCulture), 1, 1_000_000);
        }

        Assert.True(await ImageBytesAsync() - image <= MetadataChunkPair + (SmallDiskSecurityEngine.LimitMiB << 20) + SlackBytes, string.Join("; ", report));
    }

    // Empty files cost no data, only metadata (inodes, directory entries): they count against the same limit.
    private const string CreateFilesUntilRefused = """
        import errno, os
        os.mkdir("/files")
        made = 0
        try:
            for shard in range(1000):
                os.mkdir(f"/files/{shard}")
                for i in range(2000):
                    os.close(os.open(f"/files/{shard}/{i}", os.O_CREAT | os.O_WRONLY))
                    made += 1
            print("unbounded", made)
        except OSError as e:
            print(errno.errorcode.get(e.errno, e.errno), made)
        """;

    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task A_run_step_writing_past_the_build_limit_fails_with_a_quota_error_and_spares_the_host()
    {
        var image = await ImageBytesAsync();
        var build = engine.Client.Images.FromRegistry("busybox:latest")
            .RunCommands("dd if=/dev/zero of=/fill bs=1M count=256 2>&1; status=$?; echo dd-exit=$status; exit $status");

        var error = await Assert.ThrowsAsync<ImageBuildException>(() => build.BuildAsync(engine.App));

        Assert.True(error.Message.Contains("Disk quota exceeded", StringComparison.Ordinal) || error.Message.Contains("No space left", StringComparison.Ordinal),
            "the step was not stopped by a quota error: " + error.Message);
        Assert.Contains("dd-exit=1", error.Message, StringComparison.Ordinal);
        Assert.InRange(await ImageBytesAsync() - image, long.MinValue, (SmallDiskSecurityEngine.LimitMiB << 20) + SlackBytes);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(engine.Engine.StateDirectory, "writable", "builds")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(engine.Engine.StateDirectory, "images", "tmp")));
    }

    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task Run_steps_within_the_build_limit_become_layers_with_their_deletions_kept()
    {
        var marker = Guid.NewGuid().ToString("N")[..12];
        var image = engine.Client.Images.FromRegistry("busybox:latest").RunCommands(
            $"mkdir -p /opt/gone-{marker} && echo x > /opt/gone-{marker}/f",
            $"rm -r /opt/gone-{marker} && dd if=/dev/zero of=/small bs=1M count=8 2>/dev/null");
        await using var sandbox = await engine.Client.Sandboxes.CreateAsync(engine.App, image, new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) });

        var result = await sandbox.RunAsync(["sh", "-c", $"test -e /opt/gone-{marker} && echo still-there; wc -c < /small"]);

        Assert.Equal("8388608\n", result.Stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(engine.Engine.StateDirectory, "writable", "builds")));
    }

    private static string Fill(string path) => $"dd if=/dev/zero of={path} bs=1M count=256 2>&1; echo dd-exit=$?; sync; rm -f {path}; sync";

    private static void AssertQuotaError(string output)
    {
        Assert.True(output.Contains("Disk quota exceeded", StringComparison.Ordinal) || output.Contains("No space left", StringComparison.Ordinal),
            "dd was not stopped by a quota error: " + output);
        Assert.DoesNotContain("dd-exit=0", output, StringComparison.Ordinal);
    }

    /// <summary>Host blocks held by the engine's storage image: what sandboxes' writes cost the host's disk.</summary>
    private async Task<long> ImageBytesAsync()
    {
        var image = Path.Combine(engine.Engine.StateDirectory, "writable.img");
        var stat = await ExternalProcess.RunAsync("sh", ["-c", $"sync -f '{image}' && stat -c %b '{image}'"], "/", null, TimeSpan.FromMinutes(1));
        return long.Parse(stat.Stdout.Trim(), CultureInfo.InvariantCulture) * 512;
    }
}

/// <summary>Limits live in the engine's storage image itself: a restarted engine mounts it again and they still hold.</summary>
[Collection(CrunAttacks.Name)]
public sealed class DiskLimitRestartTests
{
    [Fact]
    public async Task A_volume_filled_after_an_engine_restart_still_stops_at_its_limit()
    {
        var state = TestEngine.NewStateDirectory();
        Func<EngineOptions, EngineOptions> small = options => options with { VolumeLimitBytes = 32L << 20 };
        try
        {
            var volumeName = "restart-" + Guid.NewGuid().ToString("N")[..8];
            await using (var first = await TestEngine.StartAsync(stateDirectory: state, configure: small))
            await using (var client = SecurityEngine.CreateClient(first))
            {
                await client.Volumes.FromNameAsync(volumeName, createIfMissing: true);
            }

            // The second engine's default (4 GiB) must not loosen the limit the volume was made with.
            await using var second = await TestEngine.StartAsync(stateDirectory: state);
            await using var again = SecurityEngine.CreateClient(second);
            var app = await again.Apps.FromNameAsync("security-tests", createIfMissing: true);
            var volume = await again.Volumes.FromNameAsync(volumeName);
            await using var sandbox = await again.Sandboxes.CreateAsync(app, again.Images.FromRegistry("busybox:latest"),
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), Volumes = new Dictionary<string, TypedSandbox.Volume> { ["/data"] = volume } });

            var result = await sandbox.RunAsync(["sh", "-c", "dd if=/dev/zero of=/data/fill bs=1M count=64 2>&1; echo dd-exit=$?"]);

            Assert.Contains("Disk quota exceeded", result.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("dd-exit=0", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            TestEngine.DeleteStateDirectory(state);
        }
    }
}

/// <summary>A limit asked for by one sandbox (Modal's <c>ephemeral_disk_mb</c>) is honoured on an engine with the defaults.</summary>
[Collection(CrunAttacks.Name)]
public sealed class PerSandboxDiskLimitTests(SecurityEngine engine)
{
    [Fact]
    public async Task A_sandbox_with_a_32_MiB_disk_cannot_write_64_MiB()
    {
        await using var sandbox = await engine.CreateSandboxAsync(new() { Timeout = TimeSpan.FromMinutes(5), EphemeralDiskMiB = 32 });

        var result = await sandbox.RunAsync(["sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=64 2>&1; echo dd-exit=$?; ls -l /fill"]);

        Assert.Contains("Disk quota exceeded", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("dd-exit=0", result.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>The same limits under gVisor, whose gofer writes the overlay on the host for the sandbox.</summary>
[Collection(RunscAttacks.Name)]
public sealed class RunscDiskLimitTests(RunscSecurityEngine engine)
{
    [Fact]
    public async Task A_sandbox_with_a_32_MiB_disk_cannot_write_64_MiB_under_runsc()
    {
        await using var sandbox = await engine.CreateSandboxAsync(new() { Timeout = TimeSpan.FromMinutes(5), EphemeralDiskMiB = 32 });

        var result = await sandbox.RunAsync(["sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=64 2>&1; echo dd-exit=$?"]);

        Assert.True(result.Stdout.Contains("quota", StringComparison.OrdinalIgnoreCase) || result.Stdout.Contains("No space left", StringComparison.Ordinal),
            "dd was not stopped by a quota error: " + result.Stdout);
        Assert.DoesNotContain("dd-exit=0", result.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>The build-step limit under gVisor, whose gofer writes a RUN step's changes on the host (as host root: build
/// steps have an open network, so no user namespace under runsc).</summary>
[Collection(RunscAttacks.Name)]
public sealed class RunscBuildLimitTests(RunscSecurityEngine engine)
{
    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task A_run_step_writing_past_the_build_limit_under_runsc_fails_with_a_quota_error()
    {
        await using var small = await TestEngine.StartAsync("runsc", engine.Engine.Registry,
            configure: options => options with { BuildStepLimitBytes = SmallDiskSecurityEngine.LimitMiB << 20 });
        await using var client = SecurityEngine.CreateClient(small);
        var app = await client.Apps.FromNameAsync("security-tests", createIfMissing: true);
        var build = client.Images.FromRegistry("busybox:latest")
            .RunCommands("dd if=/dev/zero of=/fill bs=1M count=256 2>&1; status=$?; echo dd-exit=$status; exit $status");

        var error = await Assert.ThrowsAsync<ImageBuildException>(() => build.BuildAsync(app));

        Assert.True(error.Message.Contains("quota", StringComparison.OrdinalIgnoreCase) || error.Message.Contains("No space left", StringComparison.Ordinal),
            "the step was not stopped by a quota error: " + error.Message);
        Assert.DoesNotContain("dd-exit=0", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(small.StateDirectory, "writable", "builds")));
    }
}
