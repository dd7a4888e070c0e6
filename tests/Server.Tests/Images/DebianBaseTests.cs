using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>
/// <c>FROM debian:bookworm-slim</c> with Docker Hub unreachable: the store builds the base with mmdebstrap (~45 s).
/// The test uses a fresh state directory, so the bootstrap runs every time and its log shows it; the shared test
/// cache (<c>TYPEDSANDBOX_TEST_CACHE</c>, default <c>$TMPDIR/typedsandbox-test-cache</c>) is for the other tests.
/// </summary>
public sealed class DebianBaseTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task DebianSlim_IsBuiltLocally_WhenNoRegistryServesIt()
    {
        var state = Directory.CreateTempSubdirectory("tsb-debian-");
        try
        {
            await AssertBuiltLocallyAsync(state.FullName);
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }

    private static async Task AssertBuiltLocallyAsync(string stateDirectory)
    {
        var options = new ImageStoreOptions { StateDirectory = stateDirectory, DebianBases = DebianBaseSource.RegistryThenBootstrap };
        using var store = new ImageStore(options, executor: null, NullLogger<ImageStore>.Instance);
        var log = new ListBuildLog();

        var image = await store.GetOrBuildAsync(["FROM debian:bookworm-slim"], log, CancellationToken.None);

        // The bootstrap ran in this test (nothing was there to reuse), start to end.
        Assert.Contains(log.Lines, l => l.Contains("locally: mmdebstrap --variant=minbase bookworm", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.StartsWith("Built ", StringComparison.Ordinal) && l.EndsWith(" locally", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Lines, l => l.Contains("built locally before", StringComparison.Ordinal));

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
