using TypedSandbox.Server.Hosting;

namespace TypedSandbox.Server.Tests.Hosting;

/// <summary>The identity issuer's loopback port switch: any free port by default, a fixed one when given.</summary>
public sealed class OidcPortOptionTests
{
    [Fact]
    public void The_oidc_port_defaults_to_any_free_port_and_takes_a_port_number()
    {
        Assert.Equal(0, EngineCommandLine.Parse([], _ => null).Options!.OidcPort);
        Assert.Equal(9123, EngineCommandLine.Parse(["--oidc-port", "9123"], _ => null).Options!.OidcPort);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("70000")]
    [InlineData("-1")]
    public void A_bad_oidc_port_is_refused(string value)
    {
        var parsed = EngineCommandLine.Parse(["--oidc-port", value], _ => null);

        Assert.Null(parsed.Options);
        Assert.Contains("--oidc-port", parsed.Error, StringComparison.Ordinal);
    }
}
