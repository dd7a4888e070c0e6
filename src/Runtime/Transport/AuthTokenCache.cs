using Microsoft.Extensions.Logging;

namespace TypedSandbox.Transport;

/// <summary>
/// Holds the control-plane auth token (a JWT from <c>AuthTokenGet</c>): fetched lazily before the first call,
/// refreshed once half its lifetime has passed, shared by concurrent callers.
/// </summary>
internal sealed class AuthTokenCache(Func<CancellationToken, Task<string>> fetch, TimeProvider time, ILogger logger) : IDisposable
{
    /// <summary>The lifetime assumed for a token whose expiry cannot be read (as Modal's SDK does).</summary>
    internal static readonly TimeSpan AssumedLifetime = TimeSpan.FromMinutes(20);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTimeOffset _refreshAt;
    private DateTimeOffset _expiresAt;

    /// <summary>Returns a token that is valid now, fetching or refreshing it when due.</summary>
    public async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_token is { } cached && now < _refreshAt)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            now = time.GetUtcNow();
            if (_token is { } fresh && now < _refreshAt)
            {
                return fresh;
            }
            try
            {
                var token = await fetch(cancellationToken).ConfigureAwait(false);
                if (string.IsNullOrEmpty(token))
                {
                    throw new ProtocolException("The server returned an empty auth token from AuthTokenGet.");
                }
                Store(token, time.GetUtcNow());
                return token;
            }
            catch (Exception e) when (_token is { } stale && time.GetUtcNow() < _expiresAt
                && e is not SandboxAuthenticationException and not OperationCanceledException)
            {
                // A refresh failure is not fatal while the old token still works.
                Log.AuthRefreshFailed(logger, e);
                return stale;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Store(string token, DateTimeOffset now)
    {
        var expiry = Jwt.ReadExpiry(token);
        if (expiry is null)
        {
            Log.AuthTokenWithoutExpiry(logger, AssumedLifetime);
        }
        _expiresAt = expiry ?? now + AssumedLifetime;
        var lifetime = _expiresAt - now;
        _refreshAt = lifetime > TimeSpan.Zero ? now + lifetime / 2 : now;
        _token = token;
    }

    /// <inheritdoc/>
    public void Dispose() => _gate.Dispose();
}
