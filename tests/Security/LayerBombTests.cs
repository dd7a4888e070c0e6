using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using TypedSandbox.Testing;
using Xunit.Abstractions;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// A gzip bomb layer (a few MB that inflate to 4 GiB of zeros) pulled by a real engine whose state directory is a
/// small tmpfs: even a broken bound could write no more than the tmpfs holds. The pull must stop at the image size
/// limit or the free-space reserve, with peak disk use bounded and no partial layer left.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class LayerBombTests(ITestOutputHelper output)
{
    private const long InflatedBytes = 4L * 1024 * 1024 * 1024;
    private const long MemberBytes = 64L * 1024 * 1024;

    [Theory]
    [InlineData(64, 384, "unpack to more than 67108864 bytes, the image size limit")]
    [InlineData(0, 256, "below its")]
    public async Task Gzip_bomb_layer_is_refused_with_disk_bounded_and_no_partial_layer(int maxImageMiB, int tmpfsMiB, string expected)
    {
        var bomb = GzipBomb();
        var layerDigest = Digest(bomb);
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}""");
        var manifest = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Digest(config)}}","size":{{config.Length}}},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{layerDigest}}","size":{{bomb.Length}}}]}
            """);
        await using var registry = new HostileHttpServer((path, stream, ct) =>
        {
            var body = path.Contains("/manifests/", StringComparison.Ordinal) ? manifest
                : path.EndsWith(Digest(config), StringComparison.Ordinal) ? config
                : path.EndsWith(layerDigest, StringComparison.Ordinal) ? bomb
                : null;
            return body is null
                ? HostileHttpServer.WriteAsync(stream, "404 Not Found", [], [], ct)
                : HostileHttpServer.WriteAsync(stream, "200 OK", [("Content-Type", "application/vnd.oci.image.manifest.v1+json")], body, ct);
        });

        // The image store on a small tmpfs of its own (the engine's other storage needs more room than the test gives).
        var state = TestEngine.NewStateDirectory();
        var images = Path.Combine(state, "images");
        Directory.CreateDirectory(images);
        await MountAsync("mount", ["-t", "tmpfs", "-o", $"size={tmpfsMiB}m,mode=0700", "tmpfs", images]);
        try
        {
            await using (var bounded = await TestEngine.StartAsync(
                stateDirectory: state,
                configure: o => maxImageMiB > 0 ? o with { MaxImageBytes = maxImageMiB * 1024L * 1024 } : o))
            {
                await using var client = SecurityEngine.CreateClient(bounded);
                var app = await client.Apps.FromNameAsync("layer-bomb", createIfMissing: true);
                var drive = new DriveInfo(images);
                var baseline = drive.TotalSize - drive.AvailableFreeSpace;
                long peak = 0;
                var sampling = true;
                // A thread of its own: a loaded thread pool must not make the sampler miss the peak.
                var sampler = new Thread(() =>
                {
                    while (Volatile.Read(ref sampling))
                    {
                        Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), drive.TotalSize - drive.AvailableFreeSpace - baseline));
                        Thread.Sleep(1);
                    }
                }) { IsBackground = true };
                sampler.Start();

                var error = await Assert.ThrowsAsync<ImageBuildException>(() =>
                    client.Images.FromRegistry($"127.0.0.1:{registry.Port}/evil/bomb:latest").BuildAsync(app));
                Volatile.Write(ref sampling, false);
                sampler.Join();

                output.WriteLine($"bomb {bomb.Length} bytes -> {InflatedBytes} inflated; peak disk use {peak >> 20} MiB; error: {error.Message}");
                Assert.Contains(expected, error.Message, StringComparison.Ordinal);
                var bound = maxImageMiB > 0 ? (maxImageMiB + 32) * 1024L * 1024 : tmpfsMiB * 1024L * 1024;
                Assert.True(peak <= bound, $"peak disk use {peak >> 20} MiB over the {bound >> 20} MiB bound");
                Assert.DoesNotContain(Directory.GetDirectories(images, "layers*"),
                    layers => Directory.Exists(Path.Combine(layers, "sha256-" + layerDigest["sha256:".Length..])));
                Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(images, "tmp")));
                Assert.True(drive.TotalSize - drive.AvailableFreeSpace - baseline < 8L << 20, "the partial layer's space was not given back");
            }
        }
        finally
        {
            await MountAsync("umount", [images]);
            TestEngine.DeleteStateDirectory(state);
        }
    }

    /// <summary>
    /// One tar entry of <see cref="InflatedBytes"/> zeros, gzipped as concatenated members (one 64 MiB member compressed
    /// once and repeated), so the bomb takes a second to make and ~4 MB to hold.
    /// </summary>
    private static byte[] GzipBomb()
    {
        using var output = new MemoryStream();
        output.Write(Gzip(TypedSandbox.Server.Tests.Images.UstarHeader.RegularFile("bomb", InflatedBytes)));
        var zeros = Gzip(new byte[MemberBytes]);
        for (long i = 0; i < InflatedBytes / MemberBytes; i++)
        {
            output.Write(zeros);
        }

        output.Write(Gzip(new byte[1024]));
        return output.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return buffer.ToArray();
    }

    private static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    private static async Task MountAsync(string tool, IReadOnlyList<string> args)
    {
        var outcome = await ExternalProcess.RunAsync(tool, args, "/", null, TimeSpan.FromSeconds(30));
        if (outcome.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({outcome.ExitCode}): {outcome.Stderr}");
        }
    }
}
