using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace TypedSandbox.Server.Images;

/// <summary>Where a reference is pulled from: the registry itself or a mirror of it.</summary>
/// <param name="BaseUri">Registry base URL (requests go to <c>v2/…</c> below it).</param>
/// <param name="Repository">Repository path, e.g. <c>library/python</c>.</param>
/// <param name="IsMirror">True for a configured mirror.</param>
internal sealed record RegistrySource(Uri BaseUri, string Repository, bool IsMirror)
{
    public override string ToString() => IsMirror ? $"mirror {BaseUri}" : BaseUri.Authority;
}

/// <summary>A manifest resolved for this machine's platform, with its config.</summary>
internal sealed record ResolvedManifest(
    RegistrySource Source,
    string ManifestDigest,
    IReadOnlyList<OciDescriptor> Layers,
    string ConfigDigest,
    byte[] ConfigJson);

/// <summary>
/// A client of the OCI distribution protocol: manifest and blob GETs with anonymous Bearer token auth,
/// manifest lists / OCI indexes resolved to one platform, digest verification, mirrors for Docker Hub, and
/// plain HTTP only for loopback hosts. Every response is read with a byte limit, and every connection goes through
/// the <see cref="RegistryAddressPolicy"/>: a registry cannot point the engine at services on its host or network.
/// Errors name the status code and the registry, never what a remote server answered.
/// </summary>
internal sealed partial class RegistryClient : IDisposable
{
    /// <summary>The largest manifest or image config read (containerd and distribution use 4 MiB too).</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    /// <summary>The largest token service answer read.</summary>
    public const int MaxTokenResponseBytes = 1024 * 1024;

    private const string DockerHubOrigin = "https://registry-1.docker.io/";
    private const int MaxRedirects = 10;
    private static readonly HttpRequestOptionsKey<RegistrySource> SourceOption = new("typedsandbox.registry-source");

    private readonly HttpClient _http;
    private readonly IReadOnlyList<RegistryMirror> _mirrors;
    private readonly OciPlatform _platform;
    private readonly RegistryAddressPolicy _policy;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    public RegistryClient(IReadOnlyList<RegistryMirror> mirrors, OciPlatform platform, TimeSpan connectTimeout, RegistryAddressPolicy policy, ILogger logger)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // followed by hand: the token must not leak to blob storage, http must stay on loopback.
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = connectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = ConnectAsync,
            UseProxy = false, // the address policy judges the address connected to; a proxy would hide it.
        };
        _http = new HttpClient(handler, disposeHandler: true);
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("TypedSandbox", "0.1"));
        _mirrors = mirrors;
        _platform = platform;
        _policy = policy;
        _logger = logger;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The sources tried for <paramref name="reference"/>, in order.</summary>
    public IReadOnlyList<RegistrySource> SourcesFor(ImageReference reference)
    {
        if (reference.IsDockerHub)
        {
            var sources = _mirrors.Select(m => new RegistrySource(m.BaseUri, reference.Repository, IsMirror: true)).ToList();
            sources.Add(new RegistrySource(new Uri(DockerHubOrigin), reference.Repository, IsMirror: false));
            return sources;
        }

        var scheme = reference.IsLoopbackRegistry ? "http" : "https";
        return [new RegistrySource(new Uri($"{scheme}://{reference.Registry}/"), reference.Repository, IsMirror: false)];
    }

    /// <summary>Resolves <paramref name="reference"/> to one platform's manifest and config, trying mirrors first for Docker Hub.</summary>
    public async Task<ResolvedManifest> ResolveAsync(ImageReference reference, IImageBuildLog log, CancellationToken cancellationToken)
    {
        var sources = SourcesFor(reference);
        ImageNotFoundException? mirrorNotFound = null;
        foreach (var source in sources)
        {
            try
            {
                return await ResolveFromAsync(source, reference, cancellationToken).ConfigureAwait(false);
            }
            catch (ImageException e) when (source.IsMirror && e is not InvalidImageDefinitionException)
            {
                mirrorNotFound ??= e as ImageNotFoundException;
                log.Write($"Mirror {source.BaseUri} could not serve {reference}: {e.Message}");
                ImageLog.MirrorFailed(_logger, source.BaseUri, reference, e.Message);
            }
            catch (ImageRegistryUnavailableException e) when (mirrorNotFound is not null)
            {
                throw new ImageNotFoundException(reference.ToString(),
                    $"{mirrorNotFound.Message} The registry itself could not be asked: {e.Message}", e);
            }
        }

        throw new InvalidOperationException("No registry source was tried."); // SourcesFor always yields the origin last.
    }

    private async Task<ResolvedManifest> ResolveFromAsync(RegistrySource source, ImageReference reference, CancellationToken cancellationToken)
    {
        var (document, digest) = await GetManifestAsync(source, reference, reference.ManifestReference, reference.Digest, cancellationToken).ConfigureAwait(false);
        if (OciMediaTypes.IsIndex(document.MediaType) || document.Manifests is not null)
        {
            var chosen = PickPlatform(reference, document.Manifests ?? []);
            (document, digest) = await GetManifestAsync(source, reference, chosen.Digest, chosen.Digest, cancellationToken).ConfigureAwait(false);
            if (document.Manifests is not null)
            {
                throw new ImageNotFoundException(reference.ToString(),
                    $"Image '{reference}': the {_platform} entry of the manifest list is itself a list, which is not supported.");
            }
        }

        if (document.Config is null || document.Layers is null)
        {
            throw new ImageNotFoundException(reference.ToString(),
                $"Image '{reference}' from {source}: the manifest has no config or layers (media type '{document.MediaType}').");
        }

        var configJson = await GetSmallBlobAsync(source, reference, document.Config, cancellationToken).ConfigureAwait(false);
        return new ResolvedManifest(source, digest, document.Layers, document.Config.Digest, configJson);
    }

    private OciDescriptor PickPlatform(ImageReference reference, IReadOnlyList<OciDescriptor> manifests)
    {
        var candidates = manifests
            .Where(m => m.Platform is { } p && p.Os == _platform.Os && p.Architecture == _platform.Architecture)
            .ToList();
        var chosen = candidates.FirstOrDefault(m => m.Platform!.Variant == _platform.Variant) ?? candidates.FirstOrDefault();
        if (chosen is null)
        {
            var available = string.Join(", ", manifests.Where(m => m.Platform is not null).Select(m => m.Platform!.ToString()));
            throw new ImageNotFoundException(reference.ToString(),
                $"Image '{reference}' has no {_platform} variant (available: {(available.Length == 0 ? "none" : available)}).");
        }

        return chosen;
    }

    private async Task<(OciManifestDocument Document, string Digest)> GetManifestAsync(
        RegistrySource source, ImageReference reference, string manifestReference, string? expectedDigest, CancellationToken cancellationToken)
    {
        var uri = new Uri(source.BaseUri, $"v2/{source.Repository}/manifests/{manifestReference}");
        using var response = await SendAsync(source, reference, uri, OciMediaTypes.ManifestAccept, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ImageNotFoundException(reference.ToString(),
                $"Image '{reference}' was not found on {source} (no manifest '{manifestReference}' in repository '{source.Repository}').");
        }

        EnsureSuccess(response, source, reference);
        var bytes = await ReadLimitedAsync(response, MaxManifestBytes, $"The manifest of '{reference}' from {source}", cancellationToken).ConfigureAwait(false);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (expectedDigest is not null && digest != expectedDigest)
        {
            throw new ImageIntegrityException($"The manifest of '{reference}' from {source} has digest {digest}, expected {expectedDigest}.");
        }

        OciManifestDocument document;
        try
        {
            document = OciManifestDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new ImageIntegrityException($"The manifest of '{reference}' from {source} is not valid JSON ({JsonPosition(e)}).", e);
        }

        var mediaType = document.MediaType ?? response.Content.Headers.ContentType?.MediaType;
        if (mediaType is OciMediaTypes.DockerManifestSchema1 or OciMediaTypes.DockerManifestSchema1Signed || document.SchemaVersion == 1)
        {
            throw new InvalidImageDefinitionException(
                $"Image '{reference}' uses Docker's schema 1 manifest format, which is not supported; push it again with a current client.");
        }

        return (document with { MediaType = mediaType }, digest);
    }

    private async Task<byte[]> GetSmallBlobAsync(RegistrySource source, ImageReference reference, OciDescriptor blob, CancellationToken cancellationToken)
    {
        if (blob.Size is < 0 or > MaxManifestBytes)
        {
            throw new ImageIntegrityException(
                $"The config blob {blob.Digest} of '{reference}' from {source} declares {blob.Size} bytes; at most {MaxManifestBytes} are accepted.");
        }

        using var buffer = new MemoryStream((int)blob.Size);
        await DownloadBlobAsync(source, reference, blob, buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>Streams a blob into <paramref name="destination"/>, verifying its size (before and while reading) and sha256 digest.</summary>
    public async Task DownloadBlobAsync(RegistrySource source, ImageReference reference, OciDescriptor blob, Stream destination, CancellationToken cancellationToken)
    {
        if (!blob.Digest.StartsWith("sha256:", StringComparison.Ordinal))
        {
            throw new ImageIntegrityException($"Blob {blob.Digest} of '{reference}' uses an unsupported digest algorithm (only sha256 is).");
        }

        if (blob.Size < 0)
        {
            throw new ImageIntegrityException($"Blob {blob.Digest} of '{reference}' declares a negative size.");
        }

        var uri = new Uri(source.BaseUri, $"v2/{source.Repository}/blobs/{blob.Digest}");
        using var response = await SendAsync(source, reference, uri, accept: null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ImageNotFoundException(reference.ToString(), $"Blob {blob.Digest} of image '{reference}' is missing on {source}.");
        }

        EnsureSuccess(response, source, reference);
        if (response.Content.Headers.ContentLength is { } length && length != blob.Size)
        {
            throw new ImageIntegrityException(
                $"Blob {blob.Digest} of '{reference}' from {source} is announced with {length} bytes, but its descriptor states {blob.Size}; the download was refused.");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            var chunk = new byte[1 << 16];
            long total = 0;
            try
            {
                int read;
                while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                    if (total > blob.Size)
                    {
                        throw new ImageIntegrityException(
                            $"Blob {blob.Digest} of '{reference}' from {source} is larger than the {blob.Size} bytes its descriptor states.");
                    }

                    hash.AppendData(chunk, 0, read);
                    await destination.WriteAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (HttpRequestException e)
            {
                throw new ImageRegistryUnavailableException($"Downloading blob {blob.Digest} of '{reference}' from {source} failed: {e.Message}", e);
            }

            if (total != blob.Size)
            {
                throw new ImageIntegrityException($"Blob {blob.Digest} of '{reference}' from {source} has {total} bytes, expected {blob.Size}.");
            }
        }

        var actual = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
        if (actual != blob.Digest)
        {
            throw new ImageIntegrityException(
                $"Blob of '{reference}' from {source} has digest {actual}, expected {blob.Digest}; the download was refused.");
        }
    }

    /// <summary>Fails on a non-success status, naming the status code and the registry only: a remote body is never quoted.</summary>
    private static void EnsureSuccess(HttpResponseMessage response, RegistrySource source, ImageReference reference)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new ImageRegistryUnavailableException($"{source} answered {(int)response.StatusCode} for image '{reference}'.");
        }
    }

    /// <summary>
    /// Reads a whole body of at most <paramref name="limit"/> bytes, chunked or not; a larger <c>Content-Length</c> is
    /// refused before reading, a longer stream as soon as it passes the limit.
    /// </summary>
    internal static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, int limit, string what, CancellationToken cancellationToken)
    {
        var declared = response.Content.Headers.ContentLength;
        if (declared > limit)
        {
            throw new ImageIntegrityException($"{what} is {declared} bytes; at most {limit} are accepted.");
        }

        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            var buffer = new byte[declared is { } known ? (int)known + 1 : Math.Min(limit + 1, 64 * 1024)];
            var total = 0;
            try
            {
                while (true)
                {
                    if (total == buffer.Length)
                    {
                        if (buffer.Length > limit)
                        {
                            throw new ImageIntegrityException($"{what} is larger than {limit} bytes; it was refused after reading {total} bytes.");
                        }

                        Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, limit + 1L));
                    }

                    var read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                throw new ImageRegistryUnavailableException($"{what} could not be read: {e.Message}", e);
            }

            if (total > limit)
            {
                throw new ImageIntegrityException($"{what} is larger than {limit} bytes; it was refused after reading {total} bytes.");
            }

            return buffer.AsSpan(0, total).ToArray();
        }
    }

    private static string RefusedAddressMessage(string endpoint, RegistrySource source, ImageReference reference) =>
        $"Refusing to connect to {endpoint}, a non-public address, for image '{reference}' via {source}: registries, their " +
        $"redirects and token services may reach loopback, link-local and private addresses only at the registry's own " +
        $"configured host and port, or in networks allowed with {RegistryAddressPolicy.CommandLineSwitch}.";

    private static string JsonPosition(JsonException e) => $"line {e.LineNumber}, byte {e.BytePositionInLine}";

    private static bool IsConfiguredEndpoint(RegistrySource source, string host, int port) =>
        port == source.BaseUri.Port && string.Equals(host.Trim('[', ']'), source.BaseUri.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);
}

/// <summary>A registry connection the <see cref="RegistryAddressPolicy"/> refused (surfaces wrapped in an <see cref="HttpRequestException"/>).</summary>
internal sealed class RegistryAddressRefusedException(string endpoint, IPAddress address)
    : IOException($"Connecting to {endpoint} ({address}) is refused: it is not a public address.")
{
    /// <summary>The host and port asked for.</summary>
    public string Endpoint { get; } = endpoint;

    /// <summary>The address the name resolved to.</summary>
    public IPAddress Address { get; } = address;
}
