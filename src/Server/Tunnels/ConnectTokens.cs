using System.Collections.Concurrent;
using System.Security.Cryptography;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Tunnels;

/// <summary>What a connect token grants: HTTP requests to one port of one sandbox until it expires.</summary>
internal sealed record ConnectGrant(string SandboxId, int Port, string UserMetadata, DateTimeOffset ExpiresAt);

/// <summary>
/// Sandbox connect tokens (<c>sb.createConnectToken</c>). A token is 32 random bytes the engine keeps in memory, bound to
/// one sandbox and port and expiring after <see cref="Lifetime"/>. Each (sandbox, port) gets its own forward on the host's
/// loopback that admits only HTTP requests carrying a token for it (<see cref="ConnectTokenGate"/>); the sandbox's
/// ordinary tunnels (ports declared at create) are untouched and stay unauthenticated.
/// </summary>
internal sealed class ConnectTokens(TimeProvider clock, ILogger<ConnectTokens> logger)
{
    /// <summary>The port requests reach when the request names none (Modal's default).</summary>
    public const int DefaultPort = 8080;

    /// <summary>How long a token is valid (and never longer than its sandbox runs).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, ConnectGrant> _grants = new(StringComparer.Ordinal);
    private readonly Dictionary<(string SandboxId, int Port), TunnelForward> _forwards = [];
    private readonly Lock _gate = new();

    /// <summary>Issues a token for <paramref name="port"/> of a running sandbox; returns the URL that answers it and the token.</summary>
    /// <exception cref="EngineException">The port or the metadata is invalid (InvalidArgument), or the sandbox finished (FailedPrecondition).</exception>
    public (string Url, string Token) Issue(SandboxSession session, int port, string userMetadata)
    {
        if (port is < 1 or > 65535)
        {
            throw EngineException.Invalid($"The connect token's port must be in [1, 65535], got {port}.");
        }

        if (userMetadata.Any(char.IsControl))
        {
            throw EngineException.Invalid("The connect token's user metadata must not contain control characters (it travels as an HTTP header).");
        }

        var container = session.RequireRunning();
        TunnelForward forward;
        lock (_gate)
        {
            if (!_forwards.TryGetValue((session.Id, port), out forward!))
            {
                forward = TunnelForward.Open(port, container, () => session.Touch(clock.GetUtcNow()), logger, new ConnectTokenGate(this, session.Id, port),
                    session.Spec.InboundCidrs);
                _forwards[(session.Id, port)] = forward;
                _ = CloseWhenEndedAsync(session, port, forward);
            }
        }

        var token = "ct-" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _grants[token] = new ConnectGrant(session.Id, port, userMetadata, clock.GetUtcNow() + Lifetime);
        return ($"http://{SandboxTunnels.Host}:{forward.HostPort}", token);
    }

    /// <summary>The grant of a token, or null when the token is unknown or expired.</summary>
    public ConnectGrant? Find(string token)
    {
        if (!_grants.TryGetValue(token, out var grant))
        {
            return null;
        }

        if (grant.ExpiresAt > clock.GetUtcNow())
        {
            return grant;
        }

        _grants.TryRemove(token, out _);
        return null;
    }

    private async Task CloseWhenEndedAsync(SandboxSession session, int port, TunnelForward forward)
    {
        await session.Completion.ConfigureAwait(false);
        lock (_gate)
        {
            _forwards.Remove((session.Id, port));
        }

        foreach (var (token, grant) in _grants)
        {
            if (grant.SandboxId == session.Id)
            {
                _grants.TryRemove(token, out _);
            }
        }

        await forward.DisposeAsync().ConfigureAwait(false);
    }
}
