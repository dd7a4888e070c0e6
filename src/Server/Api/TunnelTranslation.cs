using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Api;

/// <summary>
/// Tunnels on the wire. The local engine forwards plain TCP (there is no TLS and no public host name), so every
/// tunnel, whichever kind of port declared it (encrypted, unencrypted or h2), reports the same plaintext endpoint
/// twice: <c>host</c>/<c>port</c> and <c>unencrypted_host</c>/<c>unencrypted_port</c> are both 127.0.0.1 and the
/// forwarded host port. So the SDKs' <c>tcpSocket</c> is the honest address, and <c>http://host:port</c> reaches a
/// web server; the SDKs' <c>url</c> property still says <c>https://</c> because they build it themselves.
/// </summary>
internal static class TunnelTranslation
{
    /// <summary>The tunnels of a running sandbox (empty when it declared no ports).</summary>
    public static IEnumerable<TunnelData> ToTunnelData(SandboxSession session) =>
        (session.Tunnels?.Endpoints ?? []).Select(t => new TunnelData
        {
            Host = t.Host,
            Port = (uint)t.HostPort,
            UnencryptedHost = t.Host,
            UnencryptedPort = (uint)t.HostPort,
            ContainerPort = (uint)t.ContainerPort,
        });
}
