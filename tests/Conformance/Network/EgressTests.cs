using System.Net;
using System.Text.Json;
using TypedSandbox.Testing;

namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>
/// An engine whose egress proxies resolve the test names (<c>api.egress.test</c>, <c>other.test</c>) to servers in a
/// namespace the fixture made, never beyond this machine.
/// </summary>
public class EgressEngineFixture : IAsyncLifetime
{
    private TestEngine? _engine;

    /// <summary>The OCI runtime the engine isolates sandboxes with.</summary>
    protected virtual string Runtime => "crun";

    internal EgressServerNamespace Servers { get; } = new();

    internal TestEngine Engine => _engine ?? throw new InvalidOperationException("The engine is not started.");

    public async Task InitializeAsync()
    {
        await Servers.InitializeAsync();
        Assert.True(Servers.SkipReason is null, Servers.SkipReason);
        var address = IPAddress.Parse(Servers.Address);
        _engine = await TestEngine.StartAsync(Runtime, configure: o => o with
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
/// (HTTP) and SNI (TLS), other names and raw addresses are refused, and a malformed entry is INVALID_ARGUMENT; outbound
/// policies set headers on plain HTTP from named secrets. Run under crun (<see cref="EgressTests"/>) and gVisor
/// (<see cref="RunscEgressTests"/>), which differ only in the fixture.
/// </summary>
public abstract class EgressConformance(EgressEngineFixture fixture)
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

    [Fact]
    public async Task The_js_sdks_outbound_policy_sets_headers_from_a_secret_and_a_live_update_changes_them()
    {
        await FeatureEngineFixture.CreateSecretAsync(fixture.Engine, "outbound-js", new Dictionary<string, string> { ["API_TOKEN"] = "js-first", ["NEXT_TOKEN"] = "js-next" });
        await FeatureEngineFixture.CreateSecretAsync(fixture.Engine, "outbound-js-gone", new Dictionary<string, string> { ["API_TOKEN"] = "gone" });

        var result = await JsScenarios.RunAsync(fixture.Engine.ModalEnvironment, "egress.mjs", "outbound-headers", new Dictionary<string, string>
        {
            ["EGRESS_ADDRESS"] = fixture.Servers.Address, ["SECRET_NAME"] = "outbound-js", ["GONE_SECRET_NAME"] = "outbound-js-gone",
        });

        Assert.EndsWith("\ntoken=Bearer js-first\n", Stdout(result, "created"), StringComparison.Ordinal);
        Assert.EndsWith("\ntoken=\n", Stdout(result, "otherName"), StringComparison.Ordinal);
        Assert.EndsWith("\ntoken=js-next $5\n", Stdout(result, "updated"), StringComparison.Ordinal);
        Assert.EndsWith("\ntoken=js-next $5\n", Stdout(result, "afterRefusal"), StringComparison.Ordinal);
        foreach (var refused in new[] { "missingKey", "createMissingKey" })
        {
            Assert.Contains("INVALID_ARGUMENT", JsScenarios.Error(result, refused), StringComparison.Ordinal);
            Assert.Contains("references $NOT_THERE, which its secret does not have; it has API_TOKEN, NEXT_TOKEN", JsScenarios.Error(result, refused), StringComparison.Ordinal);
        }

        Assert.Contains("not found", JsScenarios.Error(result, "createGoneSecret"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_csharp_clients_outbound_policy_replaces_the_sandboxs_header_and_updates_it_live()
    {
        await FeatureEngineFixture.CreateSecretAsync(fixture.Engine, "outbound-cs", new Dictionary<string, string> { ["API_TOKEN"] = "cs-first", ["NEXT_TOKEN"] = "cs-next" });
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = fixture.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("egress", createIfMissing: true);
        var secret = await client.Secrets.FromNameAsync("outbound-cs");
        ExperimentalOutboundPolicy Policy(string value) =>
            new ExperimentalOutboundPolicy().WithHeaderReplacement("api.egress.test", new Dictionary<string, string> { ["X-Token"] = value }, secret);
        await using var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
            new SandboxCreateOptions { ExperimentalOutboundPolicy = Policy("Bearer $API_TOKEN") });

        // The sandbox sends its own X-Token: the proxy replaces it, it does not add a second one.
        var created = await HttpAsync(sandbox, "api.egress.test", "/cgi-bin/token", "X-Token: from-inside\\r\\n");
        await sandbox.ExperimentalUpdateOutboundPolicyAsync(Policy("$NEXT_TOKEN"));
        var updated = await HttpAsync(sandbox, "api.egress.test", "/cgi-bin/token", "X-Token: from-inside\\r\\n");
        await sandbox.ExperimentalUpdateOutboundPolicyAsync(new ExperimentalOutboundPolicy());
        var cleared = await HttpAsync(sandbox, "api.egress.test", "/cgi-bin/token", "X-Token: from-inside\\r\\n");

        Assert.EndsWith("\ntoken=Bearer cs-first\n", created, StringComparison.Ordinal);
        Assert.EndsWith("\ntoken=cs-next\n", updated, StringComparison.Ordinal);
        Assert.EndsWith("\ntoken=from-inside\n", cleared, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidArgumentException>(() => sandbox.ExperimentalUpdateOutboundPolicyAsync(Policy("$NOT_THERE")));
    }

    private async Task<string> HttpAsync(Sandbox sandbox, string name, string path = "/hello.txt", string headers = "")
    {
        var script = $"printf 'GET {path} HTTP/1.0\\r\\nHost: {name}\\r\\n{headers}\\r\\n' | nc -w 10 {fixture.Servers.Address} 80";
        await using var process = await sandbox.ExecAsync(["sh", "-c", script]);
        var output = await process.Stdout.ReadToEndAsync();
        await process.WaitAsync();
        return output;
    }

    private static string Stdout(JsonElement scenario, string name) => scenario.GetProperty(name).GetProperty("stdout").GetString() ?? "";
}

/// <summary>Outbound domain allow-lists and header replacements under crun.</summary>
public sealed class EgressTests(EgressEngineFixture fixture) : EgressConformance(fixture), IClassFixture<EgressEngineFixture>;
