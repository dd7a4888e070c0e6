using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Tunnels;

/// <summary>Where a sandbox port is reachable from the host.</summary>
/// <param name="ContainerPort">The port inside the sandbox.</param>
/// <param name="Host">The host address to connect to (the host's loopback).</param>
/// <param name="HostPort">The port on <paramref name="Host"/>.</param>
internal sealed record TunnelEndpoint(int ContainerPort, string Host, int HostPort);

/// <summary>
/// The tunnels of one sandbox, one per port declared at creation, open from the moment the sandbox runs until it
/// ends. Each forwards plain TCP from 127.0.0.1:&lt;free port&gt; to the sandbox port on the sandbox's own loopback.
/// An open connection counts as activity for the idle timeout.
/// </summary>
internal sealed class SandboxTunnels : IAsyncDisposable
{
    /// <summary>The address every tunnel listens on.</summary>
    public const string Host = "127.0.0.1";

    private readonly IReadOnlyList<TunnelForward> _forwards;

    private SandboxTunnels(IReadOnlyList<TunnelForward> forwards) => _forwards = forwards;

    /// <summary>The tunnels, in the order the ports were declared.</summary>
    public IReadOnlyList<TunnelEndpoint> Endpoints => [.. _forwards.Select(f => new TunnelEndpoint(f.ContainerPort, Host, f.HostPort))];

    /// <summary>True while any connection is open through any tunnel.</summary>
    public bool HasOpenConnection => _forwards.Any(f => f.ActiveConnections > 0);

    /// <summary>
    /// Opens a listener for each port. <paramref name="activity"/> is called when a connection opens or closes (the
    /// idle clock restarts from there). Only sources in <paramref name="inboundCidrs"/> may connect when it is not empty.
    /// </summary>
    /// <exception cref="System.Net.Sockets.SocketException">A listener could not be opened (none is left open then).</exception>
    public static async Task<SandboxTunnels> OpenAsync(
        IReadOnlyList<int> ports, IRunningContainer container, Action activity, ILogger logger, IReadOnlyList<string>? inboundCidrs = null,
        IReadOnlyDictionary<int, int>? hostPorts = null)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(container);
        var forwards = new List<TunnelForward>(ports.Count);
        try
        {
            foreach (var port in ports)
            {
                forwards.Add(TunnelForward.Open(port, container, activity, logger, inboundCidrs: inboundCidrs,
                    hostPort: hostPorts is not null && hostPorts.TryGetValue(port, out var hostPort) ? hostPort : 0));
            }
        }
        catch
        {
            foreach (var forward in forwards)
            {
                await forward.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return new SandboxTunnels(forwards);
    }

    /// <summary>Stops listening and closes every open connection.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var forward in _forwards)
        {
            await forward.DisposeAsync().ConfigureAwait(false);
        }
    }
}
