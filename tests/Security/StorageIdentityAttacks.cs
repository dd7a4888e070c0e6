using System.Globalization;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// Identity and storage: sandbox code plants a setuid-root busybox (and a file capability) in every place it can write
/// that lands on the host — a volume, its live writable layer, a filesystem snapshot's layer — and the host account
/// <c>nobody</c> tries to run it to read /etc/shadow. Root inside a sandbox must be an unprivileged host uid, and the
/// planted file must not be owned by host root nor reachable by other host users.
/// </summary>
public abstract class StorageIdentityAttacks(SecurityEngine engine)
{
    private const string Planted = "/x/busybox";

    /// <summary>Network of the attack sandboxes (runsc maps ids only without host networking: see OciContainerRuntime).</summary>
    protected virtual bool BlockNetwork => false;

    /// <summary>A host uid outside the range a sandbox's host processes may also run as (runsc's Sentry: nobody).</summary>
    protected virtual long OtherUnprivilegedHostUid => -1;

    /// <summary>The engine under attack.</summary>
    protected SecurityEngine Engine => engine;

    private Task<Sandbox> CreateSandboxAsync(IReadOnlyDictionary<string, Volume>? volumes = null, string image = "busybox:latest") =>
        engine.CreateSandboxAsync(new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), BlockNetwork = BlockNetwork, Volumes = volumes }, image);

    private static SandboxIdRange Ids => SubordinateIds.Ensure();

    // This test's own volume: the engine (and its state directory) is shared by the test classes of a runtime.
    private string VolumeDirectory(Volume volume) => Path.Combine(engine.Engine.StateDirectory, "writable", "volumes", volume.VolumeId);

    [Fact]
    public async Task Root_inside_a_sandbox_is_an_unprivileged_host_uid()
    {
        await using var sandbox = await CreateSandboxAsync();
        var marker = await PlantMarkerAsync(sandbox);
        await using var sleeper = await sandbox.ExecAsync(["sleep", "300"]);

        var containerId = FindContainerId(marker);
        var uids = await HostUidsOfAsync(containerId);

        Assert.NotEmpty(uids);
        Assert.All(uids, uid => Assert.True(uid != 0 && (Ids.Contains(uid) || uid == OtherUnprivilegedHostUid), $"a process of the sandbox runs as host uid {uid}, outside the range {Ids}"));
    }

    [Fact]
    public async Task Setuid_busybox_planted_in_a_volume_gives_host_nobody_no_root()
    {
        var volume = await engine.Client.Volumes.FromNameAsync("suid-" + Guid.NewGuid().ToString("N")[..10], createIfMissing: true);
        await using var sandbox = await CreateSandboxAsync(new Dictionary<string, Volume> { ["/data"] = volume });

        await PlantSetuidBusyboxAsync(sandbox, "/data" + Planted);

        var onHost = Directory.GetFiles(VolumeDirectory(volume), "busybox", SearchOption.AllDirectories).Single();
        await AssertHarmlessOnHostAsync(onHost);
    }

    [Fact]
    public async Task Setuid_busybox_planted_in_the_live_writable_layer_gives_host_nobody_no_root()
    {
        await using var sandbox = await CreateSandboxAsync();
        var marker = await PlantMarkerAsync(sandbox);
        await PlantSetuidBusyboxAsync(sandbox, Planted);

        var id = FindContainerId(marker);
        await AssertHarmlessOnHostAsync(Path.Combine(UpperDirectory(id), "x", "busybox"));
        // The host's view of the sandbox's rootfs must not honour set-id bits or device nodes either.
        var rootfs = Path.Combine(engine.Engine.StateDirectory, "sandboxes", "bundles", id, "rootfs");
        var mount = File.ReadLines("/proc/self/mountinfo").Single(l => l.Split(' ')[4] == rootfs);
        Assert.Contains("nosuid", mount, StringComparison.Ordinal);
        Assert.Contains("nodev", mount, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setuid_busybox_planted_in_a_filesystem_snapshot_gives_host_nobody_no_root()
    {
        await using var sandbox = await CreateSandboxAsync();
        await PlantSetuidBusyboxAsync(sandbox, Planted);

        var image = await sandbox.SnapshotFilesystemAsync();

        var layers = Directory.GetDirectories(Path.Combine(engine.Engine.StateDirectory, "images"), "layers*")
            .SelectMany(d => Directory.GetDirectories(d, "snapshot-" + image.ImageId));
        await AssertHarmlessOnHostAsync(Path.Combine(layers.Single(), "x", "busybox"));
    }

    [Fact]
    public async Task File_capability_written_by_sandbox_root_gives_host_nobody_no_privilege()
    {
        var volume = await engine.Client.Volumes.FromNameAsync("fcap-" + Guid.NewGuid().ToString("N")[..10], createIfMissing: true);
        await using var sandbox = await CreateSandboxAsync(new Dictionary<string, Volume> { ["/data"] = volume }, "python:3.13-slim");

        // VFS_CAP_REVISION_2, effective, permitted = CAP_DAC_READ_SEARCH (2) | CAP_SETUID (7): a `cat` that reads anything.
        var script = """
            import os, shutil, struct
            os.makedirs('/data/x', exist_ok=True)
            shutil.copy('/bin/cat', '/data/x/cat')
            caps = struct.pack('<IIIII', 0x02000001, (1 << 2) | (1 << 7), 0, 0, 0)
            try:
                os.setxattr('/data/x/cat', 'security.capability', caps)
                print('set')
            except OSError as e:
                print('refused', e.errno)  # gVisor has no file capabilities: the attack stops here
            """;
        var planted = await sandbox.RunAsync(["python3", "-c", script]);
        Assert.True(planted.ExitCode == 0, planted.Stderr);

        var onHost = Directory.GetFiles(VolumeDirectory(volume), "cat", SearchOption.AllDirectories).Single();
        Assert.NotEqual(0, NativeFileSystem.LStat(onHost).Uid);
        var read = await HostAccount.RunAsNobodyAsync([onHost, "/etc/shadow"]);
        Assert.NotEqual(0, read.ExitCode);
        Assert.DoesNotContain("root:", read.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Raw_socket_ping_fails_inside_a_sandbox()
    {
        await using var sandbox = await CreateSandboxAsync();

        var ping = await sandbox.RunAsync(["sh", "-c", "ping -c 1 -W 1 127.0.0.1"]);

        Assert.NotEqual(0, ping.ExitCode);
        // crun: EPERM (no CAP_NET_RAW); runsc with host networking: its netstack offers no raw sockets at all.
        Assert.Matches("(?i)permi|not permitted|operation|address family not supported", ping.Stderr);
    }

    [Theory]
    [InlineData(OciConfig.AgentMountPoint)] // where the engine really mounts the agent, so the rule follows it
    [InlineData(OciConfig.AgentMountPoint + "/typedsandbox-agent")]
    [InlineData("/proc")]
    [InlineData("/dev/x")]
    [InlineData("/sys/fs/cgroup")]
    public async Task Volume_over_a_runtime_directory_is_refused(string mountPath)
    {
        var volume = await engine.Client.Volumes.FromNameAsync("reserved-" + Guid.NewGuid().ToString("N")[..10], createIfMissing: true);

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => engine.CreateSandboxAsync(new SandboxCreateOptions
        {
            Timeout = TimeSpan.FromMinutes(1),
            Volumes = new Dictionary<string, Volume> { [mountPath] = volume },
        }));

        Assert.Contains("which the sandbox's runtime owns", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void State_directory_is_closed_to_host_users_and_the_database_is_0600()
    {
        var state = engine.Engine.StateDirectory;

        // 0710 root:<sandbox root gid> where the runtime must reach from inside the user namespace; 0700 elsewhere.
        foreach (var (path, mode) in new[] { (state, 0b111_001_000), (Path.Combine(state, "sandboxes"), 0b111_001_000), (Path.Combine(state, "writable"), 0b111_001_000), (Path.Combine(state, "writable", "volumes"), 0b111_001_000), (Path.Combine(state, "writable", "sandboxes"), 0b111_000_000), (Path.Combine(state, "images"), 0b111_000_000) })
        {
            var (uid, gid, actual) = NativeFileSystem.LStat(path);
            Assert.Equal((path, 0, mode), (path, uid, actual & 0xFFF));
            if (mode != 0b111_000_000)
            {
                Assert.Equal(Ids.HostId, gid);
            }
        }

        var database = Directory.GetFiles(state, "state.db*");
        Assert.NotEmpty(database);
        Assert.All(database, file => Assert.Equal(0b110_000_000, NativeFileSystem.LStat(file).Mode & 0xFFF));
    }

    [Fact]
    public async Task Host_nobody_cannot_list_or_read_the_state_directory()
    {
        var state = engine.Engine.StateDirectory;

        var list = await HostAccount.RunAsNobodyAsync(["ls", state]);
        var read = await HostAccount.RunAsNobodyAsync(["cat", Path.Combine(state, "state.db")]);

        Assert.NotEqual(0, list.ExitCode);
        Assert.NotEqual(0, read.ExitCode);
        Assert.Contains("Permission denied", read.Stderr, StringComparison.Ordinal);
    }

    private static async Task PlantSetuidBusyboxAsync(Sandbox sandbox, string path)
    {
        var dir = Path.GetDirectoryName(path)!;
        var plant = await sandbox.RunAsync(["sh", "-c", $"mkdir -p {dir} && cp /bin/busybox {path} && chown 0:0 {path} && chmod 4755 {path} && ls -ln {path}"]);
        Assert.True(plant.ExitCode == 0, plant.Stderr);
        Assert.StartsWith("-rwsr-xr-x", plant.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The planted file is not host root's, and <c>nobody</c> running it neither becomes root nor reads /etc/shadow.</summary>
    private static async Task AssertHarmlessOnHostAsync(string onHost)
    {
        var (uid, gid, _) = NativeFileSystem.LStat(onHost);
        Assert.True(uid != 0 && Ids.Contains(uid), $"the planted file is owned by host uid {uid}, not by the sandboxes' range {Ids}");
        Assert.True(gid != 0 && Ids.Contains(gid), $"the planted file has host gid {gid}, not one of the sandboxes' range {Ids}");

        var id = await HostAccount.RunAsNobodyAsync([onHost, "id", "-u"]);
        Assert.False(id.ExitCode == 0 && id.Stdout.Trim() == "0", "nobody became euid 0 through the planted file");
        var shadow = await HostAccount.RunAsNobodyAsync([onHost, "cat", "/etc/shadow"]);
        Assert.NotEqual(0, shadow.ExitCode);
        Assert.DoesNotContain("root:", shadow.Stdout, StringComparison.Ordinal);
    }

    private static async Task<string> PlantMarkerAsync(Sandbox sandbox)
    {
        var marker = "marker-" + Guid.NewGuid().ToString("N");
        var touch = await sandbox.RunAsync(["touch", "/" + marker]);
        Assert.True(touch.ExitCode == 0, touch.Stderr);
        return marker;
    }

    /// <summary>The id of the sandbox whose writable layer (on the host) holds <paramref name="marker"/>.</summary>
    private string FindContainerId(string marker) =>
        Directory.GetDirectories(Path.Combine(engine.Engine.StateDirectory, "sandboxes", "bundles"))
            .Select(Path.GetFileName).OfType<string>()
            .Single(id => File.Exists(Path.Combine(UpperDirectory(id), marker)));

    /// <summary>A sandbox's writable layer on the host: its upper directory in the limited storage.</summary>
    protected string UpperDirectory(string id) => Path.Combine(engine.Engine.StateDirectory, "writable", "sandboxes", id, "upper");

    /// <summary>
    /// The sandbox's slirp4netns (open network): charged to the sandbox's cgroups but a host process, in the host's pid
    /// namespace, confined by its own seccomp filter and capability set (<c>NetworkHelperAttackTests</c>), not by the
    /// sandbox's user namespace.
    /// </summary>
    private static bool IsNetworkHelper(string proc)
    {
        try
        {
            var hostPidNamespace = new FileInfo("/proc/self/ns/pid").LinkTarget;
            var pidNamespace = new FileInfo(Path.Combine(proc, "ns", "pid")).LinkTarget;
            var executable = new FileInfo(Path.Combine(proc, "exe")).LinkTarget;
            return pidNamespace == hostPidNamespace && Path.GetFileName(executable) == "slirp4netns";
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Host uids (the real, effective, saved and filesystem ones) of every host process in the sandbox's cgroup.</summary>
    private static async Task<List<long>> HostUidsOfAsync(string containerId)
    {
        var uids = new List<long>();
        foreach (var proc in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                if (!(await File.ReadAllTextAsync(Path.Combine(proc, "cgroup"))).Contains("/" + containerId, StringComparison.Ordinal)
                    || IsNetworkHelper(proc))
                {
                    continue;
                }

                var line = (await File.ReadAllLinesAsync(Path.Combine(proc, "status"))).Single(l => l.StartsWith("Uid:", StringComparison.Ordinal));
                uids.AddRange(line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(u => long.Parse(u, CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // the process ended while we looked
            }
        }

        return uids;
    }
}

/// <summary>The identity and storage attacks under crun.</summary>
[Collection(CrunAttacks.Name)]
public sealed class StorageIdentityAttacksUnderCrun(SecurityEngine engine) : StorageIdentityAttacks(engine);

/// <summary>The identity and storage attacks under runsc (gVisor) with a blocked network.</summary>
[Collection(RunscAttacks.Name)]
public sealed class StorageIdentityAttacksUnderRunsc(RunscSecurityEngine engine) : StorageIdentityAttacks(engine)
{
    protected override bool BlockNetwork => true;

    protected override long OtherUnprivilegedHostUid => 65534;
}

/// <summary>
/// The identity and storage attacks under runsc with an open network (host networking inside the sandbox's network
/// namespace), where runsc is launched inside the sandbox's user namespace (UserNamespaceLaunch).
/// </summary>
[Collection(RunscAttacks.Name)]
public sealed class StorageIdentityAttacksUnderRunscWithOpenNetwork(RunscSecurityEngine engine) : StorageIdentityAttacks(engine)
{
    protected override bool BlockNetwork => false;

    protected override long OtherUnprivilegedHostUid => 65534;
}
