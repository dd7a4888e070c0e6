using System.IO.Compression;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>The registry client's address policy, response limits and the unpack budget, as pure pieces.</summary>
public sealed class RegistryBoundsTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("0.0.0.0")]
    [InlineData("10.1.2.3")]
    [InlineData("172.20.0.1")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::127.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("2002:7f00:1::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("ff02::1")]
    public void NonPublicAddresses_AreRefused_UnlessTheRegistrysOwnEndpoint(string address)
    {
        var ip = IPAddress.Parse(address);

        Assert.True(RegistryAddressPolicy.IsNonPublic(ip));
        Assert.False(RegistryAddressPolicy.PublicOnly.Allows(ip, isConfiguredEndpoint: false));
        Assert.True(RegistryAddressPolicy.PublicOnly.Allows(ip, isConfiguredEndpoint: true));
    }

    [Theory]
    [InlineData("1.1.1.1")]
    [InlineData("104.16.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void PublicAddresses_AreAllowed(string address) =>
        Assert.True(RegistryAddressPolicy.PublicOnly.Allows(IPAddress.Parse(address), isConfiguredEndpoint: false));

    [Fact]
    public void OperatorAllowedNetworks_AreAllowed_IncludingTheirMappedForm()
    {
        var policy = new RegistryAddressPolicy([RegistryAddressPolicy.ParseNetwork("10.0.0.0/8"), RegistryAddressPolicy.ParseNetwork("127.0.0.1")]);

        Assert.True(policy.Allows(IPAddress.Parse("10.9.8.7"), isConfiguredEndpoint: false));
        Assert.True(policy.Allows(IPAddress.Parse("::ffff:10.9.8.7"), isConfiguredEndpoint: false));
        Assert.True(policy.Allows(IPAddress.Parse("127.0.0.1"), isConfiguredEndpoint: false));
        Assert.False(policy.Allows(IPAddress.Parse("127.0.0.2"), isConfiguredEndpoint: false));
        Assert.Throws<ArgumentException>(() => RegistryAddressPolicy.ParseNetwork("not-a-network"));
    }

    [Fact]
    public void EngineSwitch_AllowsNetworks_AndRefusesWhatIsNotOne()
    {
        var parsed = TypedSandbox.Server.Hosting.EngineCommandLine.Parse(
            ["--registry-allow-network", "10.0.0.0/8", "--registry-allow-network", "127.0.0.1"], _ => null);
        var bad = TypedSandbox.Server.Hosting.EngineCommandLine.Parse(["--registry-allow-network", "intranet"], _ => null);

        Assert.Null(parsed.Error);
        Assert.Equal(["10.0.0.0/8", "127.0.0.1/32"], parsed.Options!.RegistryAllowedNetworks.Select(n => n.ToString()));
        Assert.Contains("'intranet' is not a network", bad.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadLimited_RefusesABodyOverTheLimit_DeclaredOrChunked(bool declareLength)
    {
        var source = new CountingZeroStream(64L * 1024 * 1024);
        using var content = new StreamContent(source);
        content.Headers.ContentLength = declareLength ? source.Size : null;
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = content };

        await Assert.ThrowsAsync<ImageIntegrityException>(() =>
            RegistryClient.ReadLimitedAsync(response, RegistryClient.MaxManifestBytes, "The manifest", CancellationToken.None));

        Assert.True(source.Served <= RegistryClient.MaxManifestBytes + (1 << 20), $"{source.Served} bytes were read");
        if (declareLength)
        {
            Assert.Equal(0, source.Served);
        }
    }

    [Fact]
    public async Task UnpackBudget_StopsAGzipBombAtTheLimit()
    {
        using var dir = new TempDirectory("bomb");
        var blob = Path.Combine(dir.Path, "bomb.tar.gz");
        const long fileSize = 256L * 1024 * 1024;
        await using (var file = File.Create(blob))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        {
            gzip.Write(UstarHeader.RegularFile("zeros", fileSize));
            var zeros = new byte[1 << 20];
            for (var i = 0; i < fileSize / zeros.Length; i++)
            {
                gzip.Write(zeros);
            }

            gzip.Write(new byte[1024]);
        }

        var target = Directory.CreateDirectory(Path.Combine(dir.Path, "layer")).FullName;
        var budget = new UnpackBudget(dir.Path, 16L * 1024 * 1024, "test/bomb:1");

        var error = await Assert.ThrowsAsync<ImageIntegrityException>(() =>
            new LayerUnpacker(NullLogger.Instance).UnpackAsync(blob, target, budget, CancellationToken.None));

        Assert.Contains("image size limit", error.Message, StringComparison.Ordinal);
        Assert.True(new FileInfo(Path.Combine(target, "zeros")).Length <= 16L * 1024 * 1024);
    }

    /// <summary>Zeros of a given size, counting what was read.</summary>
    private sealed class CountingZeroStream(long size) : Stream
    {
        public long Size { get; } = size;

        public long Served { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, Size - Served);
            Array.Clear(buffer, offset, n);
            Served += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
