using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace TypedSandbox.Server.Identity;

/// <summary>
/// Serves the identity issuer's discovery document and key set over plain HTTP/1.1 on loopback. A listener of its
/// own: the control plane's plaintext endpoint is HTTP/2 only (Modal's SDKs speak h2c with prior knowledge, which
/// Kestrel offers only on an HTTP/2-only endpoint), and relying parties fetch these documents over HTTP/1.1.
/// </summary>
internal static class IdentityEndpoints
{
    /// <summary>Adds the loopback listener on <paramref name="port"/> (0 = any free port) to Kestrel.</summary>
    public static void Listen(KestrelServerOptions kestrel, IdentityTokens tokens, int port) =>
        kestrel.Listen(IPAddress.Loopback, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            tokens.Listener = listen;
        });

    /// <summary>Maps the two documents; they need no authentication (they hold only public facts).</summary>
    public static void MapIdentityEndpoints(this WebApplication app)
    {
        var tokens = app.Services.GetRequiredService<IdentityTokens>();
        app.MapGet(IdentityTokens.DiscoveryPath, () => Results.Text(tokens.DiscoveryDocument(), "application/json"));
        app.MapGet(IdentityTokens.KeySetPath, () => Results.Text(tokens.KeySet(), "application/json"));
    }
}
