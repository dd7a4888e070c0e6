using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TypedSandbox.Testing;

/// <summary>
/// Debian's docker-registry serving the test images (built once by scripts/fixtures/test-images.sh) on a free
/// loopback port; stopped by PID on dispose.
/// </summary>
internal sealed class LoopbackRegistry : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _configPath;

    private LoopbackRegistry(Process process, string configPath, int port)
    {
        _process = process;
        _configPath = configPath;
        Port = port;
    }

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>Its base URL, for use as a registry mirror.</summary>
    public Uri Url => new($"http://127.0.0.1:{Port}");

    /// <summary>Builds the test images if they are not cached yet, then serves them.</summary>
    public static async Task<LoopbackRegistry> StartAsync()
    {
        var cache = RepositoryPaths.TestCache;
        var build = await ExternalProcess.RunAsync(
            "bash", [Path.Combine(RepositoryPaths.Root, "scripts", "fixtures", "test-images.sh"), cache],
            RepositoryPaths.Root, null, TimeSpan.FromMinutes(10)).ConfigureAwait(false);
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"Building the test images failed ({build.ExitCode}):\n{build.Stdout}\n{build.Stderr}");
        }

        var port = FreePort();
        var configPath = Path.Combine(Path.GetTempPath(), $"typedsandbox-registry-{port}.yml");
        await File.WriteAllTextAsync(configPath, $"""
            version: 0.1
            log: {"{"} level: error {"}"}
            storage: {"{"} filesystem: {"{"} rootdirectory: {Path.Combine(cache, "registry")} {"}"} {"}"}
            http: {"{"} addr: 127.0.0.1:{port} {"}"}
            """).ConfigureAwait(false);
        var process = Process.Start(new ProcessStartInfo("docker-registry", ["serve", configPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("Could not start docker-registry (apt-get install docker-registry).");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new LoopbackRegistry(process, configPath, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(registry.Url, "/v2/")).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return registry;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or (on a loaded machine) not answering within the probe's 1 s.
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        await registry.DisposeAsync().ConfigureAwait(false);
        throw new InvalidOperationException("docker-registry did not start listening within 5 s.");
    }

    /// <summary>A free TCP port on loopback.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
        File.Delete(_configPath);
    }
}
