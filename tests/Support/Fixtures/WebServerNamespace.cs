using System.Diagnostics;

namespace TypedSandbox.Testing;

/// <summary>
/// A web server (busybox httpd on port 8080) in a network namespace the test makes, joined to the host by a veth pair
/// and answering on two addresses: a target outside the host's loopback that open sandboxes can reach. Shared by the
/// isolation tests and the conformance tests.
/// </summary>
public sealed class WebServerNamespace : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly int _subnet = Random.Shared.Next(1, 250);
    private Process? _server;
    private string? _root;
    private bool _created;

    private string Namespace => "tsbc-" + _suffix;
    private string HostLink => "tsbch" + _suffix;
    private string PeerLink => "tsbcp" + _suffix;

    /// <summary>The server's first address (allow-listed in the CIDR test).</summary>
    public string AddressA => $"10.232.{_subnet}.2";

    /// <summary>The server's second address (not allow-listed).</summary>
    public string AddressB => $"10.232.{_subnet}.3";

    /// <summary>Why the namespace cannot be made here (not root, no busybox), or null.</summary>
    public string? SkipReason { get; private set; }

    public async Task InitializeAsync()
    {
        if (Environment.UserName != "root" || !File.Exists("/bin/busybox"))
        {
            SkipReason = "needs root and /bin/busybox";
            return;
        }

        await Ip("netns", "add", Namespace);
        _created = true;
        await Ip("link", "add", HostLink, "type", "veth", "peer", "name", PeerLink);
        await Ip("link", "set", PeerLink, "netns", Namespace);
        await Ip("addr", "add", $"10.232.{_subnet}.1/29", "dev", HostLink);
        await Ip("link", "set", HostLink, "up");
        await Ip("-n", Namespace, "addr", "add", $"{AddressA}/29", "dev", PeerLink);
        await Ip("-n", Namespace, "addr", "add", $"{AddressB}/29", "dev", PeerLink);
        await Ip("-n", Namespace, "link", "set", PeerLink, "up");
        await Ip("-n", Namespace, "link", "set", "lo", "up");

        _root = Directory.CreateTempSubdirectory("tsbc-www-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_root, "hello.txt"), "hello from the test namespace\n");
        _server = Process.Start("ip", ["netns", "exec", Namespace, "/bin/busybox", "httpd", "-f", "-p", "8080", "-h", _root]);
        for (var i = 0; i < 100; i++)
        {
            var listening = await ExternalProcess.RunAsync(
                "ip", ["netns", "exec", Namespace, "/bin/busybox", "netstat", "-ltn"], "/", null, TimeSpan.FromSeconds(10));
            if (listening.Stdout.Contains(":8080", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException("The test web server did not start listening.");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
            _server.Dispose();
        }

        if (_created)
        {
            await ExternalProcess.RunAsync("ip", ["link", "del", HostLink], "/", null, TimeSpan.FromSeconds(10));
            await ExternalProcess.RunAsync("ip", ["netns", "del", Namespace], "/", null, TimeSpan.FromSeconds(10));
        }

        if (_root is not null)
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static async Task Ip(params string[] args)
    {
        var outcome = await ExternalProcess.RunAsync("ip", args, "/", null, TimeSpan.FromSeconds(10));
        if (outcome.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed: {outcome.Stderr}");
        }
    }
}
