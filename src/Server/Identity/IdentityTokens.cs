using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TypedSandbox.Server.Identity;

/// <summary>
/// The engine's OIDC issuer: signs the identity tokens sandboxes created with <c>include_oidc_identity_token</c> get
/// as <c>MODAL_IDENTITY_TOKEN</c>, and writes the discovery document and key set a relying party checks them with.
/// The issuer is the engine's plain-HTTP loopback listener (<see cref="Issuer"/>); the audience is its host and port,
/// as Modal's tokens name <c>oidc.modal.com</c>.
/// </summary>
internal sealed class IdentityTokens(string stateDirectory, TimeProvider clock)
{
    /// <summary>The variable a sandbox finds its token in (Modal's name).</summary>
    public const string EnvironmentVariable = "MODAL_IDENTITY_TOKEN";

    /// <summary>The discovery document's path (OpenID Connect Discovery 1.0).</summary>
    public const string DiscoveryPath = "/.well-known/openid-configuration";

    /// <summary>The key set's path.</summary>
    public const string KeySetPath = "/.well-known/jwks.json";

    private static readonly string[] SupportedClaims =
        ["iss", "sub", "aud", "exp", "iat", "jti", "sandbox_id", "app_id", "app_name", "environment_id", "environment_name"];

    private static readonly string[] ResponseTypes = ["id_token"];
    private static readonly string[] SubjectTypes = ["public"];
    private static readonly string[] Algorithms = [SecurityAlgorithms.EcdsaSha256];
    private static readonly string[] Scopes = ["openid"];
    private readonly Lazy<IdentitySigningKey> _key = new(() => IdentitySigningKey.LoadOrCreate(stateDirectory));
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>The plain-HTTP loopback listener serving the two documents (set when Kestrel is configured).</summary>
    internal ListenOptions? Listener { get; set; }

    /// <summary>The issuer URL (<c>http://127.0.0.1:port</c>), known once the engine listens.</summary>
    public Uri Issuer => Listener?.IPEndPoint is { Port: > 0 } bound
        ? new Uri($"http://{bound.Address}:{bound.Port}")
        : throw new InvalidOperationException("The identity token issuer is not listening yet.");

    /// <summary>The <c>aud</c> of every token: the issuer's host and port.</summary>
    public string Audience => Issuer.Authority;

    /// <summary>The signing key (created on first use).</summary>
    internal IdentitySigningKey Key => _key.Value;

    /// <summary>A signed ES256 token naming <paramref name="identity"/>, valid for <paramref name="lifetime"/>.</summary>
    public string Mint(SandboxIdentity identity, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var now = clock.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = IssuerText,
            Audience = Audience,
            IssuedAt = now,
            Expires = now + lifetime,
            Subject = new ClaimsIdentity(
            [
                new Claim("sub", identity.Subject),
                new Claim("jti", Guid.NewGuid().ToString()),
                new Claim("sandbox_id", identity.SandboxId),
                new Claim("app_id", identity.AppId),
                new Claim("app_name", identity.AppName),
                new Claim("environment_id", identity.EnvironmentId),
                new Claim("environment_name", identity.EnvironmentName),
            ]),
            SigningCredentials = new SigningCredentials(Key.SecurityKey, SecurityAlgorithms.EcdsaSha256),
        });
    }

    /// <summary>The discovery document: issuer, key set address, algorithm and the claims tokens carry.</summary>
    public string DiscoveryDocument() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["issuer"] = IssuerText,
        ["jwks_uri"] = IssuerText + KeySetPath,
        ["response_types_supported"] = ResponseTypes,
        ["subject_types_supported"] = SubjectTypes,
        ["id_token_signing_alg_values_supported"] = Algorithms,
        ["scopes_supported"] = Scopes,
        ["claims_supported"] = SupportedClaims,
    });

    /// <summary>The key set: the public half of the signing key.</summary>
    public string KeySet()
    {
        var key = Key.PublicKey;
        return JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = key.Kty, crv = key.Crv, x = key.X, y = key.Y, kid = key.Kid, use = key.Use, alg = key.Alg } },
        });
    }

    // The issuer as tokens and the discovery document spell it: no trailing slash.
    private string IssuerText => Issuer.GetLeftPart(UriPartial.Authority);
}
