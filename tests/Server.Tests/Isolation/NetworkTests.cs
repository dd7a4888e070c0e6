using System.Diagnostics;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Tests.Isolation;

/// <summary>
/// A web server in a network namespace the test makes (joined to the host by a veth pair, never the host's loopback),
/// reached or not from sandboxes.
/// </summary>
public sealed class WebServerNamespace : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly int _subnet = Random.Shared.Next(1, 250);
    private Process? _server;
    private string? _root;

    public string Namespace => "tsbt-" + _suffix;
    private string HostLink => "tsbh" + _suffix;
    private string PeerLink => "tsbp" + _suffix;

    /// <summary>The server's two addresses (one allow-listed in the CIDR test, one not).</summary>
    public string AddressA => $"10.231.{_subnet}.2";
    public string AddressB => $"10.231.{_subnet}.3";

    public string? SkipReason { get; private set; }

    public async Task InitializeAsync()
    {
        if (Environment.UserName != "root" || !File.Exists("/bin/busybox")) { SkipReason = "needs root and /bin/busybox"; return; }
        await Ip("netns", "add", Namespace);
        await Ip("link", "add", HostLink, "type", "veth", "peer", "name", PeerLink);
        await Ip("link", "set", PeerLink, "netns", Namespace);
        await Ip("addr", "add", $"10.231.{_subnet}.1/29", "dev", HostLink);
        await Ip("link", "set", HostLink, "up");
        await Ip("-n", Namespace, "addr", "add", $"{AddressA}/29", "dev", PeerLink);
        await Ip("-n", Namespace, "addr", "add", $"{AddressB}/29", "dev", PeerLink);
        await Ip("-n", Namespace, "link", "set", PeerLink, "up");
        await Ip("-n", Namespace, "link", "set", "lo", "up");

        _root = Directory.CreateTempSubdirectory("tsb-www-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_root, "hello.txt"), "hello from the test namespace\n");
        _server = Process.Start("ip", ["netns", "exec", Namespace, "/bin/busybox", "httpd", "-f", "-p", "8080", "-h", _root]);
        // Ready once the namespace has a listener on 8080.
        for (var i = 0; i < 100; i++)
        {
            var ss = await Output("ip", "netns", "exec", Namespace, "/bin/busybox", "netstat", "-ltn");
            if (ss.Contains(":8080", StringComparison.Ordinal)) return;
            await Task.Delay(50);
        }
        throw new InvalidOperationException("the test web server did not start");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
            _server.Dispose();
        }
        if (SkipReason is null)
        {
            await Output("ip", "link", "del", HostLink);
            await Output("ip", "netns", "del", Namespace);
        }
        if (_root is not null) Directory.Delete(_root, recursive: true);
    }

    private static async Task Ip(params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo("ip", args) { RedirectStandardError = true })!;
        var err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {err}");
    }

    private static async Task<string> Output(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return output;
    }
}

[Collection(SandboxTests.Name)]
// HTTP goes through `nc`: busybox-static's wget segfaults on Debian bookworm, on the host as well.
public sealed class NetworkTests(SandboxHost host, WebServerNamespace web) : IClassFixture<WebServerNamespace>
{
    [SkippableFact]
    public async Task Blocked_network_has_only_loopback_and_cannot_connect_out()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        Skip.If(web.SkipReason is not null, web.SkipReason);
        await using var sandbox = await host.Runtime().StartAsync(host.Spec(network: NetworkPolicy.Blocked), CancellationToken.None);

        var links = await Run.ShAsync(sandbox, "ip -o link | cut -d: -f2");
        var fetch = await Run.ShAsync(sandbox, $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {web.AddressA} 8080");

        Assert.Equal("lo", links.Out.Trim());
        Assert.NotEqual(0, fetch.Exit.ExitCode);
        Assert.Empty(fetch.Stdout);
    }

    [SkippableFact]
    public async Task Open_network_reaches_a_server_outside_the_host_loopback()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        Skip.If(web.SkipReason is not null, web.SkipReason);
        var spec = host.Spec(network: NetworkPolicy.Open);
        await using var sandbox = await host.Runtime().StartAsync(spec, CancellationToken.None);

        var fetch = await Run.ShAsync(sandbox, $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 10 {web.AddressA} 8080");

        Assert.True(fetch.Exit.ExitCode == 0, $"{fetch.Exit} {fetch.Err}");
        Assert.EndsWith("\r\n\r\nhello from the test namespace\n", fetch.Out, StringComparison.Ordinal);
        var netns = $"/run/netns/tsb-{spec.Id}";
        Assert.True(File.Exists(netns));
        await sandbox.TerminateAsync(CancellationToken.None);
        Assert.False(File.Exists(netns));
    }

    [SkippableFact]
    public async Task Allowed_cidrs_limit_where_an_open_sandbox_can_connect()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        Skip.If(web.SkipReason is not null, web.SkipReason);
        var policy = new NetworkPolicy(NetworkMode.Open, [$"{web.AddressA}/32"]);
        await using var sandbox = await host.Runtime().StartAsync(host.Spec(network: policy), CancellationToken.None);

        var allowed = await Run.ShAsync(sandbox, $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 10 {web.AddressA} 8080");
        var denied = await Run.ShAsync(sandbox, $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {web.AddressB} 8080");

        Assert.EndsWith("\r\n\r\nhello from the test namespace\n", allowed.Out, StringComparison.Ordinal);
        Assert.NotEqual(0, denied.Exit.ExitCode);
    }

    [SkippableFact]
    public async Task Open_network_under_gvisor_reaches_the_server_but_not_the_host_loopback()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        Skip.If(web.SkipReason is not null, web.SkipReason);
        Skip.If(HostCheck.FindExecutable("runsc") is null, "runsc is not installed (apt-get install runsc)");
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        await using var sandbox = await host.Runtime("runsc").StartAsync(host.Spec(network: NetworkPolicy.Open), CancellationToken.None);

        var fetch = await Run.ShAsync(sandbox, $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 10 {web.AddressA} 8080");
        var hostLoopback = await Run.ShAsync(sandbox, $"echo hi | nc -w 2 10.0.2.2 {port}");

        Assert.EndsWith("\r\n\r\nhello from the test namespace\n", fetch.Out, StringComparison.Ordinal);
        Assert.NotEqual(0, hostLoopback.Exit.ExitCode);
        Assert.False(listener.Pending());
    }
}
