using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Tunnels;

/// <summary>
/// One sandbox port reachable from the host: a listener on 127.0.0.1:<see cref="HostPort"/> whose every accepted
/// connection is joined to the sandbox port through the agent (<see cref="IRunningContainer.ConnectAsync"/>), so it works
/// with blocked networking and under runsc. Plain TCP both ways: there is no TLS on the local forward. An inbound CIDR
/// allow-list (Modal's <c>inboundCidrAllowlist</c>) limits which source addresses it accepts.
/// </summary>
internal sealed partial class TunnelForward : IAsyncDisposable
{
    private const int ChunkBytes = 64 * 1024;
    private readonly TcpListener _listener;
    private readonly IRunningContainer _container;
    private readonly Action _activity;
    private readonly ILogger _logger;
    private readonly IConnectionGate? _gate;
    private readonly IReadOnlyList<IPNetwork> _inbound;
    private readonly CancellationTokenSource _closing = new();
    private readonly ConcurrentDictionary<int, Task> _connections = new();
    private readonly Task _acceptLoop;
    private int _nextConnection;
    private int _active;

    private TunnelForward(int containerPort, TcpListener listener, IRunningContainer container, Action activity, ILogger logger, IConnectionGate? gate,
        IReadOnlyList<IPNetwork> inbound)
    {
        _gate = gate;
        _inbound = inbound;
        ContainerPort = containerPort;
        _listener = listener;
        _container = container;
        _activity = activity;
        _logger = logger;
        HostPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync(_closing.Token);
    }

    /// <summary>The port inside the sandbox.</summary>
    public int ContainerPort { get; }

    /// <summary>The port on the host's 127.0.0.1 that reaches it.</summary>
    public int HostPort { get; }

    /// <summary>Connections currently open through this tunnel.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>
    /// Listens on a free port of the host's loopback and starts accepting; a <paramref name="gate"/> (connect tokens)
    /// decides per connection whether it reaches the sandbox. A connection from outside <paramref name="inboundCidrs"/>
    /// (when given and not empty) is reset as soon as it is accepted.
    /// </summary>
    public static TunnelForward Open(
        int containerPort, IRunningContainer container, Action activity, ILogger logger, IConnectionGate? gate = null, IReadOnlyList<string>? inboundCidrs = null,
        int hostPort = 0)
    {
        var inbound = (inboundCidrs ?? []).Select(c => IPNetwork.Parse(c)).ToList();
        return new TunnelForward(containerPort, Listen(hostPort), container, activity, logger, gate, inbound);
    }

    // The host port asked for (a tunnel adopted from the engine before keeps its address), or any free one when it is taken.
    private static TcpListener Listen(int hostPort)
    {
        if (hostPort != 0)
        {
            var wanted = new TcpListener(IPAddress.Loopback, hostPort);
            try
            {
                wanted.Start();
                return wanted;
            }
            catch (SocketException)
            {
                wanted.Dispose();
            }
        }

        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }

    private async Task AcceptAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (!Admits(client))
            {
                continue;
            }

            var key = Interlocked.Increment(ref _nextConnection);
            Interlocked.Increment(ref _active);
            _activity();
            _connections[key] = ServeAsync(client, key, ct);
        }
    }

    private async Task ServeAsync(Socket client, int key, CancellationToken ct)
    {
        await Task.Yield();
        try
        {
            var prefix = _gate is null ? null : await _gate.AdmitAsync(client, ct).ConfigureAwait(false);
            if (_gate is not null && prefix is null)
            {
                return;
            }

            SandboxConnection connection;
            try
            {
                connection = await _container.ConnectAsync(ContainerPort, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SandboxConnectException or SandboxEndedException)
            {
                // Nothing listens on the port (yet): the client sees its connection reset, as with a closed port.
                LogRefused(ContainerPort, e.Message);
                client.LingerState = new LingerOption(true, 0);
                return;
            }

            await using (connection.ConfigureAwait(false))
            {
                if (prefix is { Length: > 0 })
                {
                    await connection.SendAsync(prefix, ct).ConfigureAwait(false);
                }

                using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var toSandbox = CopyToSandboxAsync(client, connection, failed);
                var toClient = CopyToClientAsync(connection, client, failed);
                await Task.WhenAll(toSandbox, toClient).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The tunnel closed (the sandbox ended) or the other direction failed.
        }
        catch (Exception e)
        {
            // One broken connection must not take the tunnel (or the sandbox's teardown) down with it.
            LogConnectionFailed(e, ContainerPort);
        }
        finally
        {
            client.Dispose();
            _connections.TryRemove(key, out _);
            Interlocked.Decrement(ref _active);
            _activity();
        }
    }

    private static async Task CopyToSandboxAsync(Socket client, SandboxConnection connection, CancellationTokenSource failed)
    {
        var buffer = new byte[ChunkBytes];
        try
        {
            while (true)
            {
                var read = await client.ReceiveAsync(buffer, SocketFlags.None, failed.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    await connection.CompleteSendingAsync(failed.Token).ConfigureAwait(false);
                    return;
                }

                await connection.SendAsync(buffer.AsMemory(0, read), failed.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or SandboxEndedException or ObjectDisposedException)
        {
            await failed.CancelAsync().ConfigureAwait(false);
        }
    }

    private static async Task CopyToClientAsync(SandboxConnection connection, Socket client, CancellationTokenSource failed)
    {
        long offset = 0;
        try
        {
            while (true)
            {
                var data = await connection.Received.ReadAsync(offset, ChunkBytes, failed.Token).ConfigureAwait(false);
                if (data.IsEmpty)
                {
                    // The sandbox side closed: pass the FIN on, keep reading what the client still sends.
                    client.Shutdown(SocketShutdown.Send);
                    return;
                }

                await client.SendAsync(data, SocketFlags.None, failed.Token).ConfigureAwait(false);
                offset += data.Length;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            await failed.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>True when the client's address is on the inbound allow-list (or there is none); else resets and closes it.</summary>
    private bool Admits(Socket client)
    {
        if (_inbound.Count == 0)
        {
            return true;
        }

        var address = client.RemoteEndPoint is IPEndPoint remote ? remote.Address : null;
        if (address is not null && address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address is not null && _inbound.Any(n => n.Contains(address)))
        {
            return true;
        }

        LogOutsideAllowList(ContainerPort, address);
        client.LingerState = new LingerOption(true, 0);
        client.Dispose();
        return false;
    }

    /// <summary>Stops listening and closes every open connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_closing.IsCancellationRequested)
        {
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
        _listener.Dispose();
        _closing.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tunnel to sandbox port {Port}: a connection failed")]
    private partial void LogConnectionFailed(Exception exception, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tunnel to sandbox port {Port}: refused a connection from {Address}, outside the sandbox's inbound CIDR allow-list")]
    private partial void LogOutsideAllowList(int port, IPAddress? address);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tunnel to sandbox port {Port}: connection refused inside the sandbox ({Reason})")]
    private partial void LogRefused(int port, string reason);
}
