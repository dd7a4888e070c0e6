using System.Runtime.Versioning;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using TypedSandbox.Server.Identity;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// OIDC identity tokens against the real engine, through Modal's JS SDK and through the C# client: a sandbox created
/// with the option finds <c>MODAL_IDENTITY_TOKEN</c> in its entrypoint and execs, and a relying party that knows only
/// the issuer URL validates it with the engine's discovery document and key set; one without the option has none.
/// </summary>
[Collection(FeatureEngineTests.Name)]
[SupportedOSPlatform("linux")]
public sealed class OidcTests(FeatureEngineFixture fixture)
{
    private IdentityTokens Issuer => fixture.Engine.Host.Services.GetRequiredService<IdentityTokens>();

    [Fact]
    public async Task The_JS_SDK_option_puts_a_token_naming_the_sandbox_in_entrypoint_and_execs_and_none_without_it()
    {
        var result = await fixture.RunAsync("oidc.mjs", "token", new Dictionary<string, string> { ["TEST_APP"] = "oidc-js" });

        var token = result.GetProperty("execToken").GetString()!;
        Assert.Equal(token, result.GetProperty("entrypointToken").GetString());
        var validated = await ValidateAsync(token);
        Assert.True(validated.IsValid, validated.Exception?.ToString());
        var sandboxId = result.GetProperty("sandboxId").GetString();
        Assert.Equal(sandboxId, validated.Claims["sandbox_id"]);
        Assert.Equal(result.GetProperty("appId").GetString(), validated.Claims["app_id"]);
        Assert.Equal("oidc-js", validated.Claims["app_name"]);
        Assert.Equal("main", validated.Claims["environment_name"]);
        Assert.StartsWith("en-", (string)validated.Claims["environment_id"], StringComparison.Ordinal);
        Assert.Equal($"modal:environment_name:main:app_name:oidc-js:sandbox_id:{sandboxId}", validated.Claims["sub"]);
        Assert.Equal("[unset]", result.GetProperty("withoutFlag").GetString());
    }

    [Fact]
    public async Task The_client_option_gives_a_token_valid_for_the_sandbox_lifetime_and_a_token_of_another_key_or_expired_is_refused()
    {
        await using var client = new SandboxClient(new SandboxClientOptions
        {
            ServerUrl = fixture.Engine.Url.ToString(),
            TokenId = fixture.Engine.Token.Id,
            TokenSecret = fixture.Engine.Token.Secret,
            ConfigPath = fixture.Engine.ConfigPath,
            LoggerFactory = NullLoggerFactory.Instance,
        });
        var app = await client.Apps.FromNameAsync("oidc-client", createIfMissing: true);
        var image = client.Images.FromRegistry("busybox:latest");
        await using var withToken = await client.Sandboxes.CreateAsync(app, image,
            new SandboxCreateOptions { IncludeOidcIdentityToken = true, Timeout = TimeSpan.FromMinutes(7) });
        await using var without = await client.Sandboxes.CreateAsync(app, image);

        var token = (await withToken.RunAsync(["sh", "-c", "echo \"$MODAL_IDENTITY_TOKEN\""])).Stdout.Trim();
        var absent = await without.RunAsync(["sh", "-c", "echo \"[${MODAL_IDENTITY_TOKEN-unset}]\""]);

        Assert.Equal("[unset]", absent.Stdout.Trim());
        var validated = await ValidateAsync(token);
        Assert.True(validated.IsValid, validated.Exception?.ToString());
        Assert.Equal(withToken.SandboxId, validated.Claims["sandbox_id"]);
        var jwt = (JsonWebToken)validated.SecurityToken;
        Assert.Equal("ES256", jwt.Alg);
        Assert.Equal(TimeSpan.FromMinutes(7), jwt.ValidTo - jwt.IssuedAt);

        // Another engine's key, even under this engine's key id, issuer and audience: the signature does not check out.
        using var foreignKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuer,
            Audience = Issuer.Audience,
            Claims = new Dictionary<string, object> { ["sub"] = jwt.Subject, ["sandbox_id"] = withToken.SandboxId },
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(foreignKey) { KeyId = jwt.Kid }, SecurityAlgorithms.EcdsaSha256),
        });
        Assert.IsType<SecurityTokenInvalidSignatureException>((await ValidateAsync(forged)).Exception);

        // The engine's own key (read back from its state directory) with a clock an hour behind: expired.
        var stale = new IdentityTokens(fixture.Engine.StateDirectory, new FixedClock(DateTimeOffset.UtcNow.AddHours(-1))) { Listener = Issuer.Listener };
        var expired = stale.Mint(new SandboxIdentity(withToken.SandboxId, app.AppId, "oidc-client", "en-x", "main"), TimeSpan.FromMinutes(5));
        Assert.IsType<SecurityTokenExpiredException>((await ValidateAsync(expired)).Exception);
    }

    [Fact]
    public async Task The_signing_key_is_a_private_file_of_the_state_directory_and_the_key_set_publishes_its_public_half()
    {
        var path = Path.Combine(fixture.Engine.StateDirectory, IdentitySigningKey.FileName);
        var configuration = await DiscoverAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(new Uri(Issuer.Issuer, "/.well-known/jwks.json").ToString(), configuration.JwksUri);
        var published = Assert.Single(configuration.JsonWebKeySet.Keys);
        Assert.Equal(IdentitySigningKey.LoadOrCreate(fixture.Engine.StateDirectory).PublicKey.Kid, published.Kid);
        Assert.False(published.HasPrivateKey);
        Assert.Contains("ES256", configuration.IdTokenSigningAlgValuesSupported);
    }

    /// <summary>What a relying party does: discovery at the issuer, then the key set it names, then a full check.</summary>
    private async Task<TokenValidationResult> ValidateAsync(string token)
    {
        var configuration = await DiscoverAsync();
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudience = Issuer.Issuer.Authority,
            IssuerSigningKeys = configuration.SigningKeys,
            ValidAlgorithms = configuration.IdTokenSigningAlgValuesSupported,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.Zero,
        });
    }

    private Task<OpenIdConnectConfiguration> DiscoverAsync() =>
        OpenIdConnectConfigurationRetriever.GetAsync(
            new Uri(Issuer.Issuer, "/.well-known/openid-configuration").ToString(), new HttpDocumentRetriever { RequireHttps = false }, CancellationToken.None);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
