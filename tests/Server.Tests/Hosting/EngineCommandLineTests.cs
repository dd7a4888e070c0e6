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
}
