using TypedSandbox.Server.Isolation;
using TypedSandbox.Testing;

namespace TypedSandbox.Server.Tests.Isolation;

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
    public async Task A_namespace_made_in_process_has_only_loopback_and_leaves_every_engine_thread_in_the_hosts()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var hosts = new FileInfo("/proc/self/ns/net").LinkTarget;
        var name = "tsb-test-" + Guid.NewGuid().ToString("N")[..8];
        var path = NetworkNamespaceFiles.PathOf(name);
        string links;
        try
        {
            await NetworkNamespaceFiles.CreateAsync(name);
            using var ip = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip", ["netns", "exec", name, "ip", "-o", "link"])
            {
                RedirectStandardOutput = true,
            })!;
            links = await ip.StandardOutput.ReadToEndAsync();
            await ip.WaitForExitAsync();
            var threads = Directory.GetDirectories("/proc/self/task").Select(t => new FileInfo(Path.Combine(t, "ns", "net")).LinkTarget).Distinct().ToList();
            Assert.Equal([hosts], threads);
        }
        finally
        {
            NetworkNamespaceFiles.Delete(name);
        }

        Assert.Equal(["lo"], links.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':')[1].Trim()));
        Assert.False(File.Exists(path));
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
