using System.Formats.Tar;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Tests.Images;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// A hostile image served by a loopback registry: its layer holds a 0666 block device (the host's first disk), a
/// setuid-root busybox and a file carrying a <c>security.capability</c> attribute. Pulling it must leave none of these
/// on the host with host-root ownership or power. Layer unpacking does not depend on the OCI runtime: crun only.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class HostileLayerAttacks
{
    // VFS_CAP_REVISION_2 with CAP_DAC_READ_SEARCH effective and permitted: a binary that reads any file.
    private const string CapabilityXattr = "\u0001\0\0\u0002\u0004\0\0\0\0\0\0\0\u0004\0\0\0\0\0\0\0";

    [Fact]
    public async Task Hostile_layer_with_block_device_setuid_root_file_and_file_capability_leaves_nothing_of_host_root()
    {
        await using var registry = await TestRegistry.StartAsync();
        var layer = LayerBuilder.BusyboxRootfs()
            .Dir("dev")
            .Add(new PaxTarEntry(TarEntryType.BlockDevice, "dev/hostdisk") { DeviceMajor = 8, DeviceMinor = 0, Mode = (UnixFileMode)0b110_110_110 })
            .Add(new PaxTarEntry(TarEntryType.CharacterDevice, "dev/hostmem") { DeviceMajor = 1, DeviceMinor = 1, Mode = (UnixFileMode)0b110_110_110 })
            .File("bin/suid-busybox", File.ReadAllBytes(LayerBuilder.BusyboxPath), mode: 0b100_111_101_101)
            .Add(new PaxTarEntry(TarEntryType.RegularFile, "bin/cap-busybox", new Dictionary<string, string> { ["SCHILY.xattr.security.capability"] = CapabilityXattr })
            {
                DataStream = new MemoryStream(File.ReadAllBytes(LayerBuilder.BusyboxPath)),
                Mode = (UnixFileMode)0b111_101_101,
            });
        await registry.PushImageAsync("library/hostile", "latest", [layer.Build()]);
        await using var engine = await TestEngine.StartAsync(
            "crun", configure: o => o with { RegistryMirrors = [RegistryMirror.Parse(registry.BaseUri.ToString()), .. o.RegistryMirrors] });
        await using var client = SecurityEngine.CreateClient(engine);
        var app = await client.Apps.FromNameAsync("hostile-layer", createIfMissing: true);

        await using (var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("hostile:latest"), new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(2) }))
        {
            var inside = await sandbox.RunAsync(["sh", "-c", "ls -ln /bin/suid-busybox; test -e /dev/hostdisk && echo disk-present; true"]);
            Assert.True(inside.ExitCode == 0, inside.Stderr);
            Assert.DoesNotContain("disk-present", inside.Stdout, StringComparison.Ordinal);
        }

        var ids = SubordinateIds.Ensure();
        var unpacked = Directory.GetDirectories(Path.Combine(engine.StateDirectory, "images"), "layers-u*")
            .SelectMany(d => Directory.GetDirectories(d, "sha256-*"))
            .Single(d => File.Exists(Path.Combine(d, "bin", "suid-busybox")));
        Assert.False(Path.Exists(Path.Combine(unpacked, "dev", "hostdisk")));
        Assert.False(Path.Exists(Path.Combine(unpacked, "dev", "hostmem")));
        var suid = NativeFileSystem.LStat(Path.Combine(unpacked, "bin", "suid-busybox"));
        Assert.True(suid.Uid != 0 && ids.Contains(suid.Uid), $"the setuid file is owned by host uid {suid.Uid}");
        Assert.Null(FileProbe.GetXattr(Path.Combine(unpacked, "bin", "cap-busybox"), "security.capability"));
        foreach (var entry in Directory.EnumerateFileSystemEntries(unpacked, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var (uid, gid, mode) = NativeFileSystem.LStat(entry);
            Assert.True(ids.Contains(uid) && ids.Contains(gid), $"{entry} is owned by host {uid}:{gid}");
            Assert.NotEqual(0x6000, mode & 0xF000); // no block device anywhere
        }

        var shadow = await HostAccount.RunAsNobodyAsync([Path.Combine(unpacked, "bin", "suid-busybox"), "cat", "/etc/shadow"]);
        Assert.NotEqual(0, shadow.ExitCode);
        Assert.DoesNotContain("root:", shadow.Stdout, StringComparison.Ordinal);
    }
}
