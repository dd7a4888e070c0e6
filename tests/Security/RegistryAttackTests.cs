using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// Hostile registries on loopback against a real engine pulling through real gRPC: oversized manifests, redirects and
/// token realms pointing at other loopback services. The engine must refuse, stay bounded, and never quote what the
/// other service said.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class RegistryAttackTests(SecurityEngine engine, ITestOutputHelper output)
{
    private const long ManifestBytes = 300L * 1024 * 1024;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Registry_serving_a_300MB_manifest_is_refused_with_engine_memory_bounded(bool chunked)
    {
        long served = 0;
        await using var registry = new HostileHttpServer(async (path, stream, ct) =>
        {
            if (!path.Contains("/manifests/", StringComparison.Ordinal))
            {
                await HostileHttpServer.WriteAsync(stream, "404 Not Found", [], [], ct);
                return;
            }

            var piece = new byte[64 * 1024];
            Array.Fill(piece, (byte)' ');
            piece[0] = (byte)'{';
            await HostileHttpServer.WriteHeadAsync(stream, "200 OK",
                chunked
                    ? [("Content-Type", "application/vnd.oci.image.manifest.v1+json"), ("Transfer-Encoding", "chunked")]
                    : [("Content-Type", "application/vnd.oci.image.manifest.v1+json"), ("Content-Length", ManifestBytes.ToString(CultureInfo.InvariantCulture))], ct);
            var chunkHead = Encoding.ASCII.GetBytes($"{piece.Length:x}\r\n");
            for (long sent = 0; sent < ManifestBytes; sent += piece.Length)
            {
                if (chunked)
                {
                    await stream.WriteAsync(chunkHead, ct);
                }

                await stream.WriteAsync(piece, ct);
                if (chunked)
                {
                    await stream.WriteAsync("\r\n"u8.ToArray(), ct);
                }

                Interlocked.Add(ref served, piece.Length);
                piece[0] = (byte)' ';
            }

            if (chunked)
            {
                await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), ct);
            }
        });
        var image = engine.Client.Images.FromRegistry($"127.0.0.1:{registry.Port}/evil/huge-manifest:{(chunked ? "chunked" : "declared")}");

        await using var meter = EngineMeter.Start();
        var error = await Assert.ThrowsAsync<ImageBuildException>(() => image.BuildAsync(engine.App));
        output.WriteLine($"{meter.Report()}; registry sent {Interlocked.Read(ref served) >> 20} MiB; error: {error.Message}");

        Assert.Contains("4194304", error.Message, StringComparison.Ordinal); // the limit, named in both refusals
        Assert.True(meter.PeakHeapGrowth < 128L << 20, meter.Report());
        Assert.True(meter.PeakRssGrowth < 256L << 20, meter.Report());
        Assert.True(Interlocked.Read(ref served) < 128L << 20, $"the registry got to send {Interlocked.Read(ref served)} bytes");
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("0.0.0.0")]
    [InlineData("[::1]")]
    [InlineData("[::ffff:127.0.0.1]")]
    public async Task Registry_redirect_to_another_loopback_port_is_not_followed_nor_quoted(string host)
    {
        var secret = "SECRET-" + Guid.NewGuid().ToString("N");
        await using var victim = SecretService(secret);
        await using var registry = new HostileHttpServer((_, stream, ct) =>
            HostileHttpServer.WriteAsync(stream, "307 Temporary Redirect", [("Location", $"http://{host}:{victim.Port}/internal/admin")], [], ct));
        var image = engine.Client.Images.FromRegistry($"127.0.0.1:{registry.Port}/evil/redirect:latest");
        var log = new CollectedLog();

        var error = await Assert.ThrowsAsync<ImageBuildException>(() => image.BuildAsync(engine.App, log));

        Assert.Equal(0, victim.Requests);
        Assert.Contains("Refusing to connect", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, log.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("[::1]")]
    public async Task Registry_token_realm_on_another_loopback_port_is_not_fetched_nor_quoted(string host)
    {
        var secret = "SECRET-" + Guid.NewGuid().ToString("N");
        await using var victim = SecretService(secret);
        await using var registry = new HostileHttpServer((_, stream, ct) =>
            HostileHttpServer.WriteAsync(stream, "401 Unauthorized",
                [("WWW-Authenticate", $"Bearer realm=\"http://{host}:{victim.Port}/token\",service=\"internal\"")], [], ct));
        var image = engine.Client.Images.FromRegistry($"127.0.0.1:{registry.Port}/evil/realm:latest");
        var log = new CollectedLog();

        var error = await Assert.ThrowsAsync<ImageBuildException>(() => image.BuildAsync(engine.App, log));

        Assert.Equal(0, victim.Requests);
        Assert.Contains("Refusing to connect", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, log.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Registry_error_body_is_never_quoted_to_the_client()
    {
        var secret = "SECRET-" + Guid.NewGuid().ToString("N");
        await using var registry = new HostileHttpServer((_, stream, ct) =>
            HostileHttpServer.WriteAsync(stream, "500 Internal Server Error", [("Content-Type", "text/plain")], Encoding.UTF8.GetBytes(secret), ct));
        var image = engine.Client.Images.FromRegistry($"127.0.0.1:{registry.Port}/evil/error-body:latest");
        var log = new CollectedLog();

        var error = await Assert.ThrowsAsync<ImageBuildException>(() => image.BuildAsync(engine.App, log));

        Assert.Contains("answered 500", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, log.Text, StringComparison.Ordinal);
    }

    /// <summary>An internal service on another loopback port: answers every request with the secret, as an error and as a token.</summary>
    private static HostileHttpServer SecretService(string secret) => new((_, stream, ct) =>
        HostileHttpServer.WriteAsync(stream, "500 Internal Server Error", [("Content-Type", "application/json")],
            Encoding.UTF8.GetBytes($"{{\"token\":\"{secret}\",\"detail\":\"{secret}\"}}"), ct));
}

/// <summary>Build output a client saw (kept whole: the registry attacks print little).</summary>
internal sealed class CollectedLog : IProgress<string>
{
    private readonly StringBuilder _text = new();

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    public void Report(string value)
    {
        lock (_text)
        {
            _text.Append(value);
        }
    }
}
