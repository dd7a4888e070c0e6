using System.Formats.Tar;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Tests.Images;

public sealed class LayerUnpackerTests : IDisposable
{
    private readonly TempDirectory _dir = new("unpack");

    public void Dispose() => _dir.Dispose();

    private async Task<string> UnpackAsync(LayerBuilder layer)
    {
        var target = Path.Combine(_dir.Path, "layer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        using var tar = new MemoryStream(layer.Build().Tar);
        await new LayerUnpacker(NullLogger.Instance).UnpackTarAsync(tar, target, CancellationToken.None);
        return target;
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("a/../../escape.txt")]
    [InlineData("./../escape.txt")]
    public async Task DotDotEntries_AreRefused(string name)
    {
        var error = await Assert.ThrowsAsync<ImageIntegrityException>(() => UnpackAsync(new LayerBuilder().File(name, "x")));

        Assert.Contains("outside the layer", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "escape.txt")));
    }

    [Fact]
    public async Task WritingThroughASymlink_IsRefused()
    {
        var outside = Path.Combine(_dir.Path, "outside");
        Directory.CreateDirectory(outside);

        var error = await Assert.ThrowsAsync<ImageIntegrityException>(() =>
            UnpackAsync(new LayerBuilder().Symlink("etc", outside).File("etc/evil", "x")));

        Assert.Contains("through the symlink 'etc'", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public async Task HardLinkToOutsideTheLayer_IsRefused()
    {
        await Assert.ThrowsAsync<ImageIntegrityException>(() => UnpackAsync(new LayerBuilder().HardLink("shadow", "../etc/shadow")));
        await Assert.ThrowsAsync<ImageIntegrityException>(() => UnpackAsync(new LayerBuilder().HardLink("x", "not/in/layer")));
    }

    [Fact]
    public async Task WithAnIdRange_OwnersAreShifted_SetuidKept_FileCapabilitiesDropped()
    {
        var ids = new TypedSandbox.Server.Isolation.SandboxIdRange(200_000, 65536);
        var target = Path.Combine(_dir.Path, "shifted-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        var layer = new LayerBuilder()
            .File("bin/su", "#!/bin/sh\n", mode: 0b100_111_101_101)
            .Add(new PaxTarEntry(TarEntryType.RegularFile, "bin/cap", new Dictionary<string, string>
            {
                ["SCHILY.xattr.security.capability"] = "\u0001\u0000\u0000\u0002",
            }) { Mode = (UnixFileMode)0b111_101_101 });
        using var tar = new MemoryStream(layer.Build().Tar);

        await new LayerUnpacker(NullLogger.Instance, ids).UnpackTarAsync(tar, target, CancellationToken.None);

        var su = TypedSandbox.Server.Images.NativeFileSystem.LStat(Path.Combine(target, "bin/su"));
        Assert.Equal((200_000, 200_000, 0b100_111_101_101), (su.Uid, su.Gid, su.Mode & 0xFFF));
        Assert.Equal(200_000, TypedSandbox.Server.Images.NativeFileSystem.LStat(target).Uid);
        Assert.Null(FileProbe.GetXattr(Path.Combine(target, "bin/cap"), "security.capability"));
    }

    [Fact]
    public async Task ForgedOverlayXattrs_AreDropped_OtherXattrsKept()
    {
        var entry = new PaxTarEntry(TarEntryType.Directory, "dir/", new Dictionary<string, string>
        {
            ["SCHILY.xattr.trusted.overlay.opaque"] = "y",
            ["SCHILY.xattr.user.note"] = "kept",
        })
        {
            Mode = (UnixFileMode)0b111_101_101,
        };

        var layer = await UnpackAsync(new LayerBuilder().Add(entry));

        Assert.Null(FileProbe.GetXattr(Path.Combine(layer, "dir"), "trusted.overlay.opaque"));
        Assert.Equal("kept", FileProbe.GetXattr(Path.Combine(layer, "dir"), "user.note"));
    }

    [Fact]
    public async Task DeviceNodesAreNotCreated_FifosAndWhiteoutsWithoutParentEntriesAre()
    {
        var layer = await UnpackAsync(new LayerBuilder()
            .Add(new PaxTarEntry(TarEntryType.CharacterDevice, "dev/null") { DeviceMajor = 1, DeviceMinor = 3, Mode = (UnixFileMode)0b110_110_110 })
            .Add(new PaxTarEntry(TarEntryType.BlockDevice, "dev/sda") { DeviceMajor = 8, DeviceMinor = 0, Mode = (UnixFileMode)0b110_110_110 })
            .Add(new PaxTarEntry(TarEntryType.Fifo, "run/pipe") { Mode = (UnixFileMode)0b110_000_000 })
            .Whiteout("deep/er/gone"));

        Assert.False(Path.Exists(Path.Combine(layer, "dev/null")));
        Assert.False(Path.Exists(Path.Combine(layer, "dev/sda")));
        Assert.Equal("fifo", FileProbe.Stat(Path.Combine(layer, "run/pipe")).Type);
        Assert.Equal(("character special file", 0, 0), FileProbe.Stat(Path.Combine(layer, "deep/er/gone")) is var w ? (w.Type, w.Major, w.Minor) : default);
    }
}
