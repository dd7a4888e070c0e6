using System.Net;
using System.Text.Json;
using TypedSandbox.Testing;

namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>
/// An engine whose egress proxies resolve the test names (<c>api.egress.test</c>, <c>other.test</c>) to servers in a
/// namespace the fixture made, never beyond this machine.
/// </summary>
public sealed class EgressEngineFixture : IAsyncLifetime
{
    private TestEngine? _engine;

    internal EgressServerNamespace Servers { get; } = new();

    internal TestEngine Engine => _engine ?? throw new InvalidOperationException("The engine is not started.");

    public async Task InitializeAsync()
    {
        await Servers.InitializeAsync();
        Assert.True(Servers.SkipReason is null, Servers.SkipReason);
        var address = IPAddress.Parse(Servers.Address);
        _engine = await TestEngine.StartAsync(configure: o => o with
        {
            EgressHosts = new Dictionary<string, IPAddress> { ["api.egress.test"] = address, ["other.test"] = address },
        });
    }

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }

        await Servers.DisposeAsync();
    }
}

/// <summary>
/// Outbound domain allow-lists through Modal's JS SDK and through the C# client: allowed names get through by Host
/// (HTTP) and SNI (TLS), other names and raw addresses are refused, and a malformed entry is INVALID_ARGUMENT.
/// </summary>
public sealed class EgressTests(EgressEngineFixture fixture) : IClassFixture<EgressEngineFixture>
{
    private const string Served = "\r\n\r\n" + EgressServerNamespace.Hello;

    [Fact]
    public async Task The_js_sdks_domain_allow_list_lets_only_the_listed_names_out()
    {
        var result = await JsScenarios.RunAsync(fixture.Engine.ModalEnvironment, "egress.mjs", "domain-allowlist",
            new Dictionary<string, string> { ["EGRESS_ADDRESS"] = fixture.Servers.Address });

        var allowed = result.GetProperty("allowed");
        Assert.EndsWith(Served, Stdout(allowed, "http"), StringComparison.Ordinal);
        Assert.EndsWith(Served, Stdout(allowed, "pickedAddress"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", Stdout(allowed, "otherName"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", Stdout(allowed, "rawAddress"), StringComparison.Ordinal);
        Assert.EndsWith(Served, Stdout(allowed, "tls"), StringComparison.Ordinal);
        Assert.StartsWith("refused: ", Stdout(allowed, "tlsOtherName"), StringComparison.Ordinal);
        Assert.StartsWith("refused: ", Stdout(allowed, "tlsNoName"), StringComparison.Ordinal);
        var bad = JsScenarios.Error(result, "badDomain");
        Assert.Contains("INVALID_ARGUMENT", bad, StringComparison.Ordinal);
        Assert.Contains("'not a domain' is not a domain name", bad, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_csharp_clients_domain_allow_list_lets_only_the_listed_names_out()
    {
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = fixture.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("egress", createIfMissing: true);
        await using var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
            new SandboxCreateOptions { DomainAllowlist = ["api.egress.test"] });

        var allowed = await HttpAsync(sandbox, "api.egress.test");
        var other = await HttpAsync(sandbox, "other.test");

        Assert.EndsWith(Served, allowed, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", other, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidArgumentException>(() => client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
            new SandboxCreateOptions { DomainAllowlist = ["*.*.bad"] }));
    }

    private async Task<string> HttpAsync(Sandbox sandbox, string name)
    {
        var script = $"printf 'GET /hello.txt HTTP/1.0\\r\\nHost: {name}\\r\\n\\r\\n' | nc -w 10 {fixture.Servers.Address} 80";
        await using var process = await sandbox.ExecAsync(["sh", "-c", script]);
        var output = await process.Stdout.ReadToEndAsync();
        await process.WaitAsync();
        return output;
    }

    private static string Stdout(JsonElement scenario, string name) => scenario.GetProperty(name).GetProperty("stdout").GetString() ?? "";
}
