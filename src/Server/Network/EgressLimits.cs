using System.Net;
using System.Net.Sockets;

namespace TypedSandbox.Server.Network;

/// <summary>Bounds on what one sandbox's egress proxy spends.</summary>
internal sealed record EgressLimits
{
    /// <summary>The defaults.</summary>
    public static EgressLimits Default { get; } = new();

    /// <summary>Connections open through the proxy at once; more are closed at accept.</summary>
    public int MaxConnections { get; init; } = 256;

    /// <summary>How long a client has to send its ClientHello or request head.</summary>
    public TimeSpan PrefaceTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long connecting to the destination may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A spliced connection with no bytes either way for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// How the proxy turns an allowed name into the address it connects to: the engine's static entries first (names an
/// operator pins, like docker's --add-host), then the host's resolver. The sandbox's own answer (the address it
/// connected to) is never trusted on its own: it is used only when it is one of the name's addresses, so an allowed
/// name in SNI cannot carry a connection to an address of the sandbox's choosing.
/// </summary>
internal sealed class EgressResolver(IReadOnlyDictionary<string, IPAddress> staticHosts)
{
    /// <summary>The host's resolver with no static entries.</summary>
    public static EgressResolver System { get; } = new(new Dictionary<string, IPAddress>());

    /// <summary>The IPv4 addresses of <paramref name="host"/> (empty when it does not resolve).</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        if (staticHosts.TryGetValue(host, out var pinned))
        {
            return [pinned];
        }

        try
        {
            return await Dns.GetHostAddressesAsync(host, AddressFamily.InterNetwork, ct).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            return [];
        }
    }

    /// <summary>Where to connect: the client's original address when the name has it, else the name's first address.</summary>
    public async Task<IPEndPoint?> DestinationAsync(string host, IPEndPoint original, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(original);
        var addresses = await ResolveAsync(host, ct).ConfigureAwait(false);
        var chosen = addresses.Contains(original.Address) ? original.Address : addresses.FirstOrDefault();
        return chosen is null ? null : new IPEndPoint(chosen, original.Port);
    }
}
