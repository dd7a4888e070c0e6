using TypedSandbox.Server.Hosting;

namespace TypedSandbox.Server.Tests.Hosting;

/// <summary>The engine's switches for tokens and TLS: secrets never on the command line, TLS exactly beyond loopback.</summary>
public sealed class EngineCommandLineTests
{
    private static ParsedCommandLine Parse(params string[] args) => EngineCommandLine.Parse(args, _ => null);

    [Theory]
    [InlineData("--token-secret")]
    [InlineData("--token-id")]
    public void A_token_switch_is_refused_with_the_replacement_named(string flag)
    {
        var parsed = Parse(flag, "as-secret");

        Assert.Null(parsed.Options);
        Assert.Contains("--token-file", parsed.Error, StringComparison.Ordinal);
        Assert.Contains("TYPEDSANDBOX_TOKEN_SECRET", parsed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_file_and_an_environment_pair_are_accepted_but_not_together()
    {
        var fromFile = Parse("--token-file", "/etc/typedsandbox/token");
        var fromEnvironment = EngineCommandLine.Parse([], name => name switch
        {
            "TYPEDSANDBOX_TOKEN_ID" => "ak-operator",
            "TYPEDSANDBOX_TOKEN_SECRET" => "as-operator",
            _ => null,
        });
        var both = EngineCommandLine.Parse(["--token-file", "/etc/typedsandbox/token"], name => name == "TYPEDSANDBOX_TOKEN_ID" || name == "TYPEDSANDBOX_TOKEN_SECRET" ? "x" : null);
        var half = EngineCommandLine.Parse([], name => name == "TYPEDSANDBOX_TOKEN_ID" ? "ak-operator" : null);

        Assert.Equal("/etc/typedsandbox/token", fromFile.Options?.TokenFile);
        Assert.Equal(("ak-operator", "as-operator"), (fromEnvironment.Options?.TokenId, fromEnvironment.Options?.TokenSecret));
        Assert.Contains("keep one", both.Error, StringComparison.Ordinal);
        Assert.Contains("both parts", half.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Binding_beyond_loopback_needs_a_certificate_and_key()
    {
        var plain = Parse("--bind", "10.1.2.3");
        var halfTls = Parse("--bind", "10.1.2.3", "--tls-cert", "/certs/server.pem");
        var tls = Parse("--bind", "10.1.2.3", "--tls-cert", "/certs/server.pem", "--tls-key", "/certs/server.key");

        Assert.Contains("--tls-cert", plain.Error, StringComparison.Ordinal);
        Assert.Contains("both --tls-cert and --tls-key", halfTls.Error, StringComparison.Ordinal);
        Assert.True(tls.Options?.UsesTls, tls.Error);
    }

    [Fact]
    public void TLS_on_loopback_is_refused_because_Modals_SDKs_dial_a_loopback_router_without_TLS()
    {
        var parsed = Parse("--tls-cert", "/certs/server.pem", "--tls-key", "/certs/server.key");

        Assert.Contains("beyond loopback", parsed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_bounds_on_all_sandboxes_together_are_read_checked_and_default_to_shares_of_the_host()
    {
        var set = Parse("--sandboxes-pids", "5000", "--sandboxes-memory-mib", "2048");
        var tooFew = Parse("--sandboxes-pids", "10");
        var notASize = Parse("--sandboxes-memory-mib", "lots");
        var host = TypedSandbox.Server.Isolation.SandboxTotals.ForHost();
        var pidMax = long.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal((5000L, 2048L << 20), (set.Options?.SandboxPidsTotal, set.Options?.SandboxMemoryTotalBytes));
        Assert.Contains("at least 64", tooFew.Error, StringComparison.Ordinal);
        Assert.Contains("--sandboxes-memory-mib 'lots'", notASize.Error, StringComparison.Ordinal);
        Assert.Null(Parse().Options?.SandboxPidsTotal);
        Assert.Equal(pidMax * 3 / 4, host.Pids);
        Assert.InRange(host.MemoryBytes, 1L << 20, (TypedSandbox.Server.Engine.HostCapacity.MemoryMiB << 20) - (1L << 30));
    }

    [Fact]
    public void Closed_networks_are_ipv4_networks_in_cidr_form_and_repeatable()
    {
        var parsed = Parse("--closed-network", "10.0.0.0/8", "--closed-network", "192.168.0.0/16");

        Assert.Equal(["10.0.0.0/8", "192.168.0.0/16"], parsed.Options!.SandboxClosedNetworks.Select(n => n.ToString()));
        Assert.Empty(Parse().Options!.SandboxClosedNetworks);
        foreach (var wrong in new[] { "10.0.0.1/8", "fd00::/8", "ten", "10.0.0.0/33" })
        {
            var refused = Parse("--closed-network", wrong);
            Assert.True(refused.Options is null, wrong);
            Assert.Contains("is not an IPv4 network in CIDR form", refused.Error, StringComparison.Ordinal);
        }
    }
}
