using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TypedSandbox.Server.Auth;

/// <summary>
/// Mints and checks the engine's JWTs: control-plane auth tokens (<c>AuthTokenGet</c>) and command-router tokens,
/// each bound to one task. The signing key lives only in memory, so a restart invalidates old tokens; the SDKs
/// then ask for new ones (they refresh on UNAUTHENTICATED).
/// </summary>
internal sealed class TokenAuthority
{
    private const string Issuer = "typedsandbox-engine";
    private const string ClientAudience = "modal-client";
    private const string RouterAudience = "task-command-router";
    private readonly SymmetricSecurityKey _key = new(RandomNumberGenerator.GetBytes(32));
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly TimeProvider _clock;

    /// <summary>Creates an authority with a fresh random key.</summary>
    public TokenAuthority(TimeProvider clock) => _clock = clock;

    /// <summary>How long a control-plane token lives.</summary>
    public static TimeSpan ClientTokenLifetime { get; } = TimeSpan.FromHours(1);

    /// <summary>How long a router token lives.</summary>
    public static TimeSpan RouterTokenLifetime { get; } = TimeSpan.FromMinutes(30);

    /// <summary>A control-plane token for a caller who presented <paramref name="tokenId"/>.</summary>
    public string MintClientToken(string tokenId) => Mint(ClientAudience, tokenId, ClientTokenLifetime);

    /// <summary>A router token that grants access to one task's command router.</summary>
    public string MintRouterToken(string taskId) => Mint(RouterAudience, taskId, RouterTokenLifetime);

    /// <summary>Checks a router token; returns the task id it grants, or null when it is invalid or expired.</summary>
    public async Task<string?> ValidateRouterTokenAsync(string token) => await ValidateAsync(token, RouterAudience).ConfigureAwait(false);

    /// <summary>Checks a control-plane token; returns its subject, or null when it is invalid or expired.</summary>
    public async Task<string?> ValidateClientTokenAsync(string token) => await ValidateAsync(token, ClientAudience).ConfigureAwait(false);

    private string Mint(string audience, string subject, TimeSpan lifetime)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            IssuedAt = now,
            NotBefore = now.AddSeconds(-5),
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });
    }

    private async Task<string?> ValidateAsync(string token, string audience)
    {
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = audience,
            IssuerSigningKey = _key,
            ClockSkew = TimeSpan.FromSeconds(5),
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = _clock.GetUtcNow().UtcDateTime;
                return (notBefore is null || notBefore <= now.AddSeconds(5)) && expires is not null && expires > now;
            },
        }).ConfigureAwait(false);
        return result.IsValid && result.Claims.TryGetValue("sub", out var sub) ? sub as string : null;
    }
}
