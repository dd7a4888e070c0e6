using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>
/// Debian's <c>docker-registry</c> serving from a temp directory on 127.0.0.1:&lt;free port&gt;, with a push client.
/// Disposing stops the process (by its PID) and deletes the storage.
/// </summary>
internal sealed class TestRegistry : IAsyncDisposable
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";

    private readonly Process _process;
    private readonly HttpClient _http = new(new BearerTokenHandler(new HttpClientHandler()));
    private readonly TempDirectory _dir;

    private TestRegistry(Process process, TempDirectory dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
        Address = $"127.0.0.1:{port}";
        BaseUri = new Uri($"http://{Address}/");
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>, the registry part of references.</summary>
    public string Address { get; }

    public Uri BaseUri { get; }

    public bool IsRunning => !_process.HasExited;

    /// <summary>
    /// Starts a registry; with <paramref name="requireBasicAuth"/>, every request needs htpasswd credentials; with a
    /// <paramref name="tokenServer"/>, every request needs a Bearer token from it.
    /// </summary>
    public static async Task<TestRegistry> StartAsync(bool requireBasicAuth = false, TestTokenServer? tokenServer = null)
    {
        var dir = new TempDirectory("registry");
        var port = FreePort();
        var auth = "";
        if (requireBasicAuth)
        {
            // A fixed bcrypt hash of the test password "pw"; no client in the tests knows it.
            var htpasswd = Path.Combine(dir.Path, "htpasswd");
            await File.WriteAllTextAsync(htpasswd, "tester:$2b$12$m6Afgf2BHkNyv.XjUTM9puZotKKX1aqoYD7Ogvq1n5wGfa93lSwWm\n");
            auth = $"auth:\n  htpasswd:\n    realm: typedsandbox-test\n    path: {htpasswd}\n";
        }

        if (tokenServer is not null)
        {
            var bundle = Path.Combine(dir.Path, "token-root.pem");
            await File.WriteAllTextAsync(bundle, tokenServer.CertificatePem);
            auth = $"auth:\n  token:\n    realm: {tokenServer.Realm}\n    service: {TestTokenServer.Service}\n" +
                   $"    issuer: {TestTokenServer.Issuer}\n    rootcertbundle: {bundle}\n";
        }

        var config = Path.Combine(dir.Path, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(dir.Path, "data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            {auth}
            """);

        var start = new ProcessStartInfo("docker-registry", ["serve", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("docker-registry did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new TestRegistry(process, dir, port);
        await registry.WaitUntilReadyAsync();
        return registry;
    }

    private async Task WaitUntilReadyAsync()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited with code {_process.ExitCode} before serving.");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri(BaseUri, "v2/"));
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException("docker-registry did not start serving.");
    }

    /// <summary>Pushes a one-platform image; returns the manifest digest.</summary>
    public async Task<string> PushImageAsync(string repository, string tag, IReadOnlyList<TestLayer> layers, object? containerConfig = null, string architecture = "amd64")
    {
        var (bytes, _) = await PushManifestContentAsync(repository, layers, containerConfig, architecture);
        return await PutManifestAsync(repository, tag, bytes, OciManifest);
    }

    /// <summary>Pushes an OCI index whose entries are images for the given architectures; returns the index digest.</summary>
    public async Task<string> PushIndexAsync(string repository, string tag, IReadOnlyList<(string Architecture, IReadOnlyList<TestLayer> Layers)> platforms)
    {
        var entries = new List<object>();
        foreach (var (architecture, layers) in platforms)
        {
            var (bytes, digest) = await PushManifestContentAsync(repository, layers, null, architecture);
            await PutManifestAsync(repository, digest, bytes, OciManifest);
            entries.Add(new { mediaType = OciManifest, digest, size = bytes.Length, platform = new { architecture, os = "linux" } });
        }

        var index = JsonSerializer.SerializeToUtf8Bytes(new { schemaVersion = 2, mediaType = OciIndex, manifests = entries });
        return await PutManifestAsync(repository, tag, index, OciIndex);
    }

    private async Task<(byte[] Bytes, string Digest)> PushManifestContentAsync(string repository, IReadOnlyList<TestLayer> layers, object? containerConfig, string architecture)
    {
        var config = JsonSerializer.SerializeToUtf8Bytes(new
        {
            architecture,
            os = "linux",
            config = containerConfig ?? new { Env = new[] { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" } },
            rootfs = new { type = "layers", diff_ids = layers.Select(l => l.DiffId).ToArray() },
        });
        var configDigest = await PushBlobAsync(repository, config);
        foreach (var layer in layers)
        {
            await PushBlobAsync(repository, layer.Blob);
        }

        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = OciManifest,
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = configDigest, size = config.Length },
            layers = layers.Select(l => new { mediaType = l.MediaType, digest = l.Digest, size = l.Blob.Length }).ToArray(),
        });
        return (manifest, Sha256(manifest));
    }

    public async Task<string> PushBlobAsync(string repository, byte[] content)
    {
        var digest = Sha256(content);
        using var start = await _http.PostAsync(new Uri(BaseUri, $"v2/{repository}/blobs/uploads/"), null);
        Check(start, HttpStatusCode.Accepted, "start upload");
        var location = start.Headers.Location ?? throw new InvalidOperationException("No upload location.");
        var upload = location.IsAbsoluteUri ? location : new Uri(BaseUri, location);
        var separator = upload.Query.Length > 0 ? "&" : "?";
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await _http.PutAsync(new Uri(upload + separator + "digest=" + Uri.EscapeDataString(digest)), body);
        Check(put, HttpStatusCode.Created, "finish upload");
        return digest;
    }

    private async Task<string> PutManifestAsync(string repository, string reference, byte[] manifest, string mediaType)
    {
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var put = await _http.PutAsync(new Uri(BaseUri, $"v2/{repository}/manifests/{reference}"), body);
        Check(put, HttpStatusCode.Created, "put manifest");
        return Sha256(manifest);
    }

    /// <summary>The file the registry serves a blob from (to corrupt it on purpose).</summary>
    public string BlobDataPath(string digest)
    {
        var hex = digest["sha256:".Length..];
        return Path.Combine(_dir.Path, "data", "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        _http.Dispose();
        _dir.Dispose();
    }

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    private static void Check(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        if (response.StatusCode != expected)
        {
            var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            throw new InvalidOperationException($"Registry {what}: {(int)response.StatusCode} {body}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Answers a registry's Bearer challenge for the push client (the token server grants any scope).</summary>
internal sealed class BearerTokenHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
        if (response.StatusCode != HttpStatusCode.Unauthorized || challenge?.Scheme != "Bearer")
        {
            return response;
        }

        var parameters = TypedSandbox.Server.Images.RegistryClient.ParseChallenge(challenge.Parameter!);
        var scope = parameters.TryGetValue("scope", out var s) ? s : "";
        using var client = new HttpClient();
        var json = await client.GetStringAsync(
            $"{parameters["realm"]}?service={Uri.EscapeDataString(parameters["service"])}&scope={Uri.EscapeDataString(scope)}", cancellationToken);
        var token = JsonDocument.Parse(json).RootElement.GetProperty("token").GetString();
        response.Dispose();
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(request, cancellationToken);
    }
}

/// <summary>A temp directory deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string purpose)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(),
            string.Create(CultureInfo.InvariantCulture, $"tsb-{purpose}-{Guid.NewGuid():N}"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Collects build log lines.</summary>
internal sealed class ListBuildLog : TypedSandbox.Server.Images.IImageBuildLog
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public void Write(string line)
    {
        lock (_lines)
        {
            _lines.Add(line);
        }
    }

    public override string ToString() => string.Join('\n', Lines);
}
