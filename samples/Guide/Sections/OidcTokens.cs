using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TypedSandbox.Samples.Guide;

/// <summary>
/// OIDC identity tokens: a sandbox created with <see cref="SandboxCreateOptions.IncludeOidcIdentityToken"/> finds a
/// signed JWT in <c>MODAL_IDENTITY_TOKEN</c> naming it, its app and environment. A service checks it against the
/// issuer's discovery document and key set (ES256). Here the issuer is read from the token to keep the section short;
/// a real service pins the issuer it trusts.
/// </summary>
internal sealed class OidcTokens : IGuideSection
{
    public string Name => "oidc";

    public string Title => "Authentication: OIDC Identity Tokens";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { IncludeOidcIdentityToken = true }, cancellationToken);
        var token = (await sb.RunAsync(["bash", "-c", "echo $MODAL_IDENTITY_TOKEN"], cancellationToken: cancellationToken)).Stdout.Trim();
        var parts = token.Split('.');
        using var header = JsonDocument.Parse(Base64Url(parts[0]));
        using var claims = JsonDocument.Parse(Base64Url(parts[1]));
        var issuer = claims.RootElement.GetProperty("iss").GetString();
        await output.WriteLineAsync($"token for this sandbox: {claims.RootElement.GetProperty("sandbox_id").GetString() == sb.SandboxId}, " +
            $"app: {claims.RootElement.GetProperty("app_name").GetString()}");

        using var http = new HttpClient();
        var discovery = await http.GetFromJsonAsync<JsonElement>($"{issuer}/.well-known/openid-configuration", cancellationToken);
        var keySet = await http.GetFromJsonAsync<JsonElement>(discovery.GetProperty("jwks_uri").GetString(), cancellationToken);
        var kid = header.RootElement.GetProperty("kid").GetString();
        var jwk = keySet.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("kid").GetString() == kid);
        using var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64Url(jwk.GetProperty("x").GetString()!), Y = Base64Url(jwk.GetProperty("y").GetString()!) },
        });
        // A JWS ES256 signature is r and s side by side, the format ECDsa.VerifyData takes by default.
        var valid = key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), Base64Url(parts[2]), HashAlgorithmName.SHA256);
        var expires = DateTimeOffset.FromUnixTimeSeconds(claims.RootElement.GetProperty("exp").GetInt64());
        await output.WriteLineAsync($"signature valid: {valid}, algorithm: {header.RootElement.GetProperty("alg").GetString()}, " +
            $"expires in the future: {expires > DateTimeOffset.UtcNow}");
        await sb.TerminateAsync(cancellationToken);
    }

    private static byte[] Base64Url(string text) => Convert.FromBase64String(
        text.Replace('-', '+').Replace('_', '/') + new string('=', (4 - text.Length % 4) % 4));
}
