using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TypedSandbox.Server.Hosting;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// An open sandbox's outbound connections are host sockets (slirp4netns), so without a rule sandbox code would reach
/// every service the host listens on beyond loopback and the cloud's instance metadata service (the machine's
/// credentials). The attack: from an open sandbox, and from one whose allow-list is 0.0.0.0/0, connect to a listener on
/// one of the host's own addresses and to a web server at a link-local address (where metadata services live), both
/// reachable from the host through a veth pair into a namespace the test makes. A server at an ordinary private address
/// on the same link stays reachable: it shows the path works.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class ClosedNetworkAttackTests(SecurityEngine engine, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public Task Sandbox_code_reaches_neither_the_hosts_own_addresses_nor_a_link_local_metadata_address() =>
        ClosedNetworkAttack.RunAsync(engine, output);

    [Fact]
    public Task An_address_the_host_gains_while_a_sandbox_runs_is_closed_to_it() =>
        ClosedNetworkAttack.RunAddressGainedLaterAsync(engine, output);
}

[Collection(RunscAttacks.Name)]
public sealed class RunscClosedNetworkAttackTests(RunscSecurityEngine engine, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public Task Under_gVisor_sandbox_code_reaches_neither_the_hosts_own_addresses_nor_a_link_local_metadata_address() =>
        ClosedNetworkAttack.RunAsync(engine, output);
}

/// <summary>
/// An operator closes a network of the host's site (<c>--closed-network</c>): open sandboxes, also one whose allow-list
/// is 0.0.0.0/0, no longer reach a server there, which sandboxes of an engine without the switch reach (the control of
/// <see cref="ClosedNetworkAttackTests"/>).
/// </summary>
public sealed class OperatorClosedNetworkTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_network_the_operator_closes_is_refused_to_open_sandboxes_whatever_their_allow_list()
    {
        await using var link = await MetadataLink.StartAsync();
        var engine = await TestEngine.StartAsync(configure: o => o with { SandboxClosedNetworks = [IPNetwork.Parse("10.233.0.0/16")] });
        try
        {
            await using var client = SecurityEngine.CreateClient(engine);
            var app = await client.Apps.FromNameAsync("closed-network", createIfMissing: true);
            var image = client.Images.FromRegistry("busybox:latest");
            var probe = $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {link.PeerAddress} 8080; echo private=$?";
            foreach (var options in new[]
            {
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) },
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), CidrAllowlist = ["0.0.0.0/0"] },
            })
            {
                await using var sandbox = await client.Sandboxes.CreateAsync(app, image, options);
                var result = await sandbox.RunAsync(["sh", "-c", probe]);
                output.WriteLine($"{string.Join(',', options.CidrAllowlist ?? [])}: {result.Stdout} {result.Stderr}");

                Assert.Contains("private=", result.Stdout, StringComparison.Ordinal);
                Assert.DoesNotContain("private=0", result.Stdout, StringComparison.Ordinal);
                Assert.DoesNotContain("hello from the link", result.Stdout, StringComparison.Ordinal);
            }
        }
        finally
        {
            await engine.DisposeAsync();
        }
    }

    /// <summary>
    /// The egress proxy connects for the sandbox, from the sandbox's network namespace: a name the sandbox may reach
    /// (a domain allow-list) or whose requests get headers (an outbound policy) that resolves into a closed network must
    /// be refused to the proxy too. The control is the same request through an engine without the switch, which gets
    /// the server's page.
    /// </summary>
    [Fact]
    public async Task An_allowed_name_that_resolves_into_a_closed_network_is_refused_to_the_egress_proxy()
    {
        var servers = new EgressServerNamespace();
        try
        {
            await servers.InitializeAsync();
            Assert.True(servers.SkipReason is null, servers.SkipReason);
            var hosts = new Dictionary<string, IPAddress> { ["api.egress.test"] = IPAddress.Parse(servers.Address) };
            var request = $"printf 'GET /hello.txt HTTP/1.0\\r\\nHost: api.egress.test\\r\\n\\r\\n' | nc -w 10 {servers.Address} 80";

            var open = await ThroughEgressProxyAsync(o => o with { EgressHosts = hosts }, request);
            var closed = await ThroughEgressProxyAsync(
                o => o with { EgressHosts = hosts, SandboxClosedNetworks = [IPNetwork.Parse("10.233.0.0/16")] }, request);

            Assert.All(open, answer => Assert.EndsWith(EgressServerNamespace.Hello, answer, StringComparison.Ordinal));
            Assert.All(closed, answer => Assert.DoesNotContain(EgressServerNamespace.Hello, answer, StringComparison.Ordinal));
        }
        finally
        {
            await servers.DisposeAsync();
        }
    }

    /// <summary>Runs <paramref name="request"/> in a sandbox with a domain allow-list and in one with an outbound policy
    /// (both send it through the egress proxy) on an engine configured by <paramref name="configure"/>.</summary>
    private async Task<string[]> ThroughEgressProxyAsync(Func<EngineOptions, EngineOptions> configure, string request)
    {
        var engine = await TestEngine.StartAsync(configure: configure);
        try
        {
            await using var client = SecurityEngine.CreateClient(engine);
            var app = await client.Apps.FromNameAsync("closed-network-egress", createIfMissing: true);
            var image = client.Images.FromRegistry("busybox:latest");
            var answers = new List<string>();
            foreach (var options in new[]
            {
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), DomainAllowlist = ["api.egress.test"] },
                new SandboxCreateOptions
                {
                    Timeout = TimeSpan.FromMinutes(5),
                    ExperimentalOutboundPolicy = new ExperimentalOutboundPolicy().WithHeaderReplacement(
                        "api.egress.test", new Dictionary<string, string> { ["X-Token"] = "set-by-the-proxy" }),
                },
            })
            {
                await using var sandbox = await client.Sandboxes.CreateAsync(app, image, options);
                var result = await sandbox.RunAsync(["sh", "-c", request]);
                output.WriteLine($"{(options.DomainAllowlist is null ? "outbound policy" : "domain allow-list")}: {result.Stdout} {result.Stderr}");
                answers.Add(result.Stdout);
            }

            return [.. answers];
        }
        finally
        {
            await engine.DisposeAsync();
        }
    }
}

internal static class ClosedNetworkAttack
{
    /// <summary>
    /// The host gains an address after a sandbox's filter was loaded (an interface comes up). Sandbox code tries a
    /// listener on that address until it is refused; the engine must close it (<c>HostAddressWatch</c>) while the private
    /// peer on the same link stays reachable. The probe gives up after ~60 tries (at least 15 s): never refused is the
    /// attack working.
    /// </summary>
    public static async Task RunAddressGainedLaterAsync(SecurityEngine engine, Xunit.Abstractions.ITestOutputHelper output)
    {
        await using var sandbox = await engine.CreateSandboxAsync(new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) });
        Assert.Equal(0, (await sandbox.RunAsync(["true"])).ExitCode);

        await using var link = await MetadataLink.StartAsync();
        using var hostListener = new TcpListener(link.HostAddress, 0);
        hostListener.Start();
        var hostPort = ((IPEndPoint)hostListener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var client = await hostListener.AcceptTcpClientAsync(stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
                // stopped
            }
        });

        try
        {
            var probe = $"for i in $(seq 60); do if echo hi | nc -w 2 {link.HostAddress} {hostPort}; then sleep 0.25; else echo refused-after=$i; exit 0; fi; done; echo never-refused";
            var tried = await sandbox.RunAsync(["sh", "-c", probe]);
            output.WriteLine($"probe: {tried.Stdout} {tried.Stderr}");
            Assert.Contains("refused-after=", tried.Stdout, StringComparison.Ordinal);

            var check = string.Join("; ",
                $"echo hi | nc -w 5 {link.HostAddress} {hostPort}; echo host=$?",
                $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {link.PeerAddress} 8080; echo control=$?");
            var after = await sandbox.RunAsync(["sh", "-c", check]);
            output.WriteLine($"after: {after.Stdout} {after.Stderr}");
            Assert.Contains("host=", after.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("host=0", after.Stdout, StringComparison.Ordinal);
            Assert.Contains("hello from the link\ncontrol=0", after.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            hostListener.Stop();
            await accepting;
        }
    }

    public static async Task RunAsync(SecurityEngine engine, Xunit.Abstractions.ITestOutputHelper output)
    {
        await using var link = await MetadataLink.StartAsync();
        using var hostListener = new TcpListener(link.HostAddress, 0);
        hostListener.Start();
        var hostPort = ((IPEndPoint)hostListener.LocalEndpoint).Port;
        var accepted = 0;
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var client = await hostListener.AcceptTcpClientAsync(stop.Token);
                    Interlocked.Increment(ref accepted);
                }
            }
            catch (OperationCanceledException)
            {
                // stopped
            }
        });

        // busybox's nc (its static wget crashes on this Debian build); "$?" of nc is its connect's outcome.
        var probe = string.Join("; ",
            $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {link.PeerAddress} 8080; echo control=$?",
            $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {link.LinkLocalPeerAddress} 8080; echo metadata=$?",
            $"echo hi | nc -w 5 {link.HostAddress} {hostPort}; echo host=$?");
        var sandboxes = new (string Who, SandboxCreateOptions Options)[]
        {
            ("open", new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) }),
            ("allow-list 0.0.0.0/0", new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), CidrAllowlist = ["0.0.0.0/0"] }),
        };
        foreach (var (who, options) in sandboxes)
        {
            await using var sandbox = await engine.CreateSandboxAsync(options);
            var result = await sandbox.RunAsync(["sh", "-c", probe]);
            output.WriteLine($"{who}: {result.Stdout} {result.Stderr}");

            Assert.Contains("hello from the link\ncontrol=0", result.Stdout, StringComparison.Ordinal);
            Assert.Equal(2, result.Stdout.Split("hello from the link").Length); // only the control answered
            Assert.DoesNotContain("metadata=0", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("metadata=", result.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("host=0", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("host=", result.Stdout, StringComparison.Ordinal);
        }

        await stop.CancelAsync();
        hostListener.Stop();
        await accepting;
        Assert.Equal(0, Volatile.Read(ref accepted));
    }
}

/// <summary>
/// A veth pair from the host into a namespace the test makes: the host end has an ordinary private address and a
/// link-local one (host addresses), the peer end the same (a web server answers there on port 8080). Removed on dispose.
/// </summary>
internal sealed class MetadataLink : IAsyncDisposable
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly int _subnet = Random.Shared.Next(1, 250);
    private Process? _server;
    private string? _root;
    private bool _namespace;
    private bool _link;

    private string Namespace => "tsbm-" + _suffix;
    private string HostLink => "tsbmh" + _suffix;
    private string PeerLink => "tsbmp" + _suffix;

    public IPAddress HostAddress => IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"10.233.{_subnet}.1"));

    public string PeerAddress => string.Create(CultureInfo.InvariantCulture, $"10.233.{_subnet}.2");

    public string LinkLocalPeerAddress => string.Create(CultureInfo.InvariantCulture, $"169.254.{_subnet}.2");

    public static async Task<MetadataLink> StartAsync()
    {
        var link = new MetadataLink();
        try
        {
            await link.SetUpAsync();
            return link;
        }
        catch
        {
            await link.DisposeAsync();
            throw;
        }
    }

    private async Task SetUpAsync()
    {
        await Ip("netns", "add", Namespace);
        _namespace = true;
        await Ip("link", "add", HostLink, "type", "veth", "peer", "name", PeerLink);
        _link = true;
        await Ip("link", "set", PeerLink, "netns", Namespace);
        await Ip("addr", "add", $"{HostAddress}/24", "dev", HostLink);
        await Ip("addr", "add", string.Create(CultureInfo.InvariantCulture, $"169.254.{_subnet}.1/24"), "dev", HostLink);
        await Ip("link", "set", HostLink, "up");
        await Ip("-n", Namespace, "addr", "add", $"{PeerAddress}/24", "dev", PeerLink);
        await Ip("-n", Namespace, "addr", "add", $"{LinkLocalPeerAddress}/24", "dev", PeerLink);
        await Ip("-n", Namespace, "link", "set", PeerLink, "up");
        await Ip("-n", Namespace, "link", "set", "lo", "up");

        _root = Directory.CreateTempSubdirectory("tsbm-www-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_root, "hello.txt"), "hello from the link\n");
        _server = Process.Start("ip", ["netns", "exec", Namespace, "/bin/busybox", "httpd", "-f", "-p", "8080", "-h", _root]);
        for (var i = 0; i < 100; i++)
        {
            var listening = await ExternalProcess.RunAsync("ip", ["netns", "exec", Namespace, "/bin/busybox", "netstat", "-ltn"], "/", null, TimeSpan.FromSeconds(10));
            if (listening.Stdout.Contains(":8080", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException("The test web server did not start listening.");
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
            _server.Dispose();
        }

        if (_link)
        {
            await ExternalProcess.RunAsync("ip", ["link", "del", HostLink], "/", null, TimeSpan.FromSeconds(10));
        }

        if (_namespace)
        {
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
