using System.Net;
using System.Net.Sockets;
using System.Text;
using TypedSandbox.Testing;

namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>
/// Live network policy, inbound CIDR allow-lists and outbound policies through the C# client against the real engine:
/// a running sandbox's egress goes nothing → open → one CIDR → nothing → open (crun and gVisor), a blockNetwork
/// sandbox refuses to be opened, a tunnel with an inbound allow-list admits 127.0.0.2 and resets 127.0.0.1, and an
/// outbound policy is accepted, updated, and refused where this engine cannot apply it.
/// </summary>
[Collection(EngineTests.Name)]
public sealed class LiveNetworkPolicyClientTests(EngineFixture fixture, WebServerNamespace web) : IClassFixture<WebServerNamespace>
{
    private const string Served = "\r\n\r\nhello from the test namespace\n";

    [Theory]
    [InlineData(null)]
    [InlineData("gvisor")]
    public async Task A_running_sandboxs_egress_changes_live_from_nothing_to_open_to_one_cidr_and_back(string? runtime)
    {
        await using var client = NewClient();
        var app = await client.Apps.FromNameAsync("netpolicy", createIfMissing: true);
        await using var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
            new SandboxCreateOptions { CidrAllowlist = [], Runtime = runtime });

        var startsBlocked = await FetchAsync(sandbox, web.AddressA);
        await sandbox.UpdateNetworkPolicyAsync(["0.0.0.0/0"], []);
        var opened = await FetchAsync(sandbox, web.AddressA);
        await sandbox.UpdateNetworkPolicyAsync([$"{web.AddressA}/32"], []);
        var listedA = await FetchAsync(sandbox, web.AddressA);
        var unlistedB = await FetchAsync(sandbox, web.AddressB);
        await sandbox.UpdateNetworkPolicyAsync([]);
        var closedAgain = await FetchAsync(sandbox, web.AddressA);
        await sandbox.UpdateNetworkPolicyAsync(["0.0.0.0/0"]);
        var reopenedB = await FetchAsync(sandbox, web.AddressB);

        Assert.DoesNotContain("hello", startsBlocked, StringComparison.Ordinal);
        Assert.EndsWith(Served, opened, StringComparison.Ordinal);
        Assert.EndsWith(Served, listedA, StringComparison.Ordinal);
        Assert.DoesNotContain("hello", unlistedB, StringComparison.Ordinal);
        Assert.DoesNotContain("hello", closedAgain, StringComparison.Ordinal);
        Assert.EndsWith(Served, reopenedB, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blockNetwork_sandbox_cannot_be_opened_and_bad_updates_are_refused()
    {
        await using var client = NewClient();
        var app = await client.Apps.FromNameAsync("netpolicy", createIfMissing: true);
        await using var blocked = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"), new SandboxCreateOptions { BlockNetwork = true });
        await using var open = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"));

        var noNetwork = await Assert.ThrowsAsync<ConflictException>(() => blocked.UpdateNetworkPolicyAsync(["0.0.0.0/0"]));
        var badCidr = await Assert.ThrowsAsync<InvalidArgumentException>(() => open.UpdateNetworkPolicyAsync(["not-a-cidr"]));
        var domains = await Assert.ThrowsAsync<InvalidArgumentException>(() => open.UpdateNetworkPolicyAsync([], ["example.com"]));

        Assert.Contains("blockNetwork", noNetwork.Message, StringComparison.Ordinal);
        Assert.Contains("Invalid CIDR: not-a-cidr", badCidr.Message, StringComparison.Ordinal);
        Assert.Contains("domain allow-lists", domains.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tunnel_with_an_inbound_allow_list_admits_listed_sources_only()
    {
        await using var client = NewClient();
        var app = await client.Apps.FromNameAsync("netpolicy", createIfMissing: true);
        await using var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"), new SandboxCreateOptions
        {
            Command = ["sh", "-c", "mkdir -p /www && echo inside > /www/hello.txt && exec httpd -f -p 8080 -h /www"],
            EncryptedPorts = [8080],
            InboundCidrAllowlist = ["127.0.0.2/32"],
        });
        var tunnel = (await sandbox.TunnelsAsync())[8080];

        var admitted = "";
        // httpd starts with the sandbox: retry (bounded) while the forward resets for want of a listener.
        for (var attempt = 0; attempt < 400 && !admitted.Contains("inside", StringComparison.Ordinal); attempt++)
        {
            admitted = await RequestAsync(IPAddress.Parse("127.0.0.2"), tunnel.Port);
            await Task.Delay(admitted.Length == 0 ? 50 : 0);
        }
        var refused = await RequestAsync(IPAddress.Loopback, tunnel.Port);

        Assert.EndsWith("\r\n\r\ninside\n", admitted, StringComparison.Ordinal);
        Assert.Equal("", refused);
    }

    [Fact]
    public async Task An_outbound_policy_is_accepted_updated_and_refused_where_its_templates_cannot_resolve()
    {
        await using var client = NewClient();
        var app = await client.Apps.FromNameAsync("netpolicy", createIfMissing: true);
        var image = client.Images.FromRegistry("busybox:latest");
        await using var withPolicy = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { ExperimentalOutboundPolicy = new() });
        await using var without = await client.Sandboxes.CreateAsync(app, image);
        ExperimentalOutboundPolicy Headers(string value) =>
            new ExperimentalOutboundPolicy().WithHeaderReplacement("api.example.com", new Dictionary<string, string> { ["Authorization"] = value });

        // Created with an empty policy, the sandbox runs an egress proxy, so header replacements can be added later.
        await withPolicy.ExperimentalUpdateOutboundPolicyAsync(new ExperimentalOutboundPolicy());
        await withPolicy.ExperimentalUpdateOutboundPolicyAsync(Headers("Bearer x"));
        var unbound = await Assert.ThrowsAsync<InvalidArgumentException>(() => withPolicy.ExperimentalUpdateOutboundPolicyAsync(Headers("Bearer $TOKEN")));
        var notCreatedWithOne = await Assert.ThrowsAsync<ConflictException>(() => without.ExperimentalUpdateOutboundPolicyAsync(new ExperimentalOutboundPolicy()));

        Assert.Contains("references a secret key ($TOKEN), but the replacement names no secret", unbound.Message, StringComparison.Ordinal);
        Assert.Contains("created without an experimentalOutboundPolicy", notCreatedWithOne.Message, StringComparison.Ordinal);
    }

    private SandboxClient NewClient() => new(new SandboxClientOptions { ConfigPath = fixture.Engine.ConfigPath });

    // The reply of the test's web server, or what nc printed when it could not connect (a reset fails at once).
    private static async Task<string> FetchAsync(Sandbox sandbox, string address)
    {
        var process = await sandbox.ExecAsync(["sh", "-c", $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 10 {address} 8080 2>&1"]);
        return await process.Stdout.ReadToEndAsync();
    }

    // Everything the tunnel sent back for one HTTP request from a given loopback source address; "" when it reset.
    private static async Task<string> RequestAsync(IPAddress source, int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        var received = new StringBuilder();
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            await socket.SendAsync(Encoding.ASCII.GetBytes("GET /hello.txt HTTP/1.0\r\n\r\n"));
            var buffer = new byte[4096];
            int read;
            while ((read = await socket.ReceiveAsync(buffer)) > 0)
            {
                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (SocketException)
        {
            // Reset: refused by the allow-list, or nothing listens in the sandbox yet.
        }

        return received.ToString();
    }
}
