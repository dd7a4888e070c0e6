using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>
/// <c>FROM debian:bookworm-slim</c> with Docker Hub unreachable: the store builds the base with mmdebstrap (~45 s the
/// first time). The state directory lives in the shared test cache (<c>TYPEDSANDBOX_TEST_CACHE</c>, default
/// <c>$TMPDIR/typedsandbox-test-cache</c>) so later runs reuse it.
/// </summary>
public sealed class DebianBaseTests
{
    public static string TestCacheRoot =>
        Environment.GetEnvironmentVariable("TYPEDSANDBOX_TEST_CACHE") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Path.GetTempPath(), "typedsandbox-test-cache");

    [Fact]
    [Trait("Category", "Slow")]
    public async Task DebianSlim_IsBuiltLocally_WhenNoRegistryServesIt()
    {
        var options = new ImageStoreOptions
        {
            StateDirectory = Path.Combine(TestCacheRoot, "images-debian"),
            DebianBases = DebianBaseSource.RegistryThenBootstrap,
        };
        using var store = new ImageStore(options, executor: null, NullLogger<ImageStore>.Instance);
        var log = new ListBuildLog();

        var image = await store.GetOrBuildAsync(["FROM debian:bookworm-slim"], log, CancellationToken.None);

        var rootfs = Assert.Single(image.LayerDirs);
        Assert.StartsWith("12.", File.ReadAllText(Path.Combine(rootfs, "etc/debian_version")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(rootfs, "usr/bin/apt-get")));
        Assert.True(File.Exists(Path.Combine(rootfs, "usr/bin/bash")));
        var docs = Directory.EnumerateFiles(Path.Combine(rootfs, "usr/share/doc"), "*", SearchOption.AllDirectories)
            .Where(f => new FileInfo(f).LinkTarget is null) // Packages ship symlinks (e.g. FAQ -> README) that slim leaves dangling.
            .ToList();
        Assert.NotEmpty(docs);
        Assert.All(docs, d => Assert.Equal("copyright", Path.GetFileName(d)));
        var manDir = Path.Combine(rootfs, "usr/share/man");
        Assert.True(!Directory.Exists(manDir) || !Directory.EnumerateFiles(manDir, "*", SearchOption.AllDirectories).Any());
        Assert.Equal(["bash"], image.Config.Cmd);
        Assert.Contains(image.Config.Env, e => e.StartsWith("PATH=", StringComparison.Ordinal));
        Assert.Equal(image.ImageId, store.TryGet(image.ImageId)?.ImageId);
    }
}
