using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TypedSandbox.Server.Network;

/// <summary>
/// One sandbox's filtering egress proxy. It listens on 127.0.0.1:<see cref="Port"/> inside the sandbox's network
/// namespace, where nat rules redirect the sandbox's TCP to the TLS and HTTP ports; it reads the SNI or Host of each
/// connection, refuses names the rules do not allow (TLS: closed; HTTP: 403), and splices allowed ones to the name's
/// address with a socket of its own, also in that namespace (so its traffic takes the sandbox's path out, slirp4netns
/// included) and marked so the redirect lets it pass.
/// </summary>
internal sealed class EgressProxy : IAsyncDisposable
{
    /// <summary>The port the proxy listens on in the sandbox's namespace.</summary>
    public const int Port = 15001;
    private const int BufferSize = 16 * 1024;
    private readonly Socket _listener;
    private readonly string _namespacePath;
    private readonly EgressResolver _resolver;
    private readonly EgressLimits _limits;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile EgressRules _rules;

    private EgressProxy(Socket listener, string namespacePath, EgressRules rules, EgressResolver resolver, EgressLimits limits, ILogger logger)
    {
        _listener = listener;
        _namespacePath = namespacePath;
        _rules = rules;
        _resolver = resolver;
        _limits = limits;
        _logger = logger;
        _slots = new SemaphoreSlim(limits.MaxConnections, limits.MaxConnections);
        _accepting = AcceptAsync();
    }

    /// <summary>The rules in force; a new value applies to connections opened after it is set.</summary>
    public EgressRules Rules
    {
        get => _rules;
        set => _rules = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Starts a proxy listening inside the namespace at <paramref name="namespacePath"/>.</summary>
    public static async Task<EgressProxy> StartAsync(string namespacePath, EgressRules rules, EgressResolver resolver, EgressLimits limits, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var listener = await NamespaceSockets.CreateAsync(namespacePath, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, Port));
                socket.Listen(128);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }).WaitAsync(ct).ConfigureAwait(false);
        return new EgressProxy(listener, namespacePath, rules, resolver, limits, logger);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (!_slots.Wait(0))
            {
                EgressLog.AtCapacity(_logger, _limits.MaxConnections);
                client.Dispose();
                continue;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(TlsClientHello.MaxPrefaceBytes);
        try
        {
            using (client)
            {
                await ServeAsync(client, buffer).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            EgressLog.ConnectionFailed(_logger, e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _slots.Release();
        }
    }

    private async Task ServeAsync(Socket client, byte[] buffer)
    {
        var rules = _rules;
        var original = NamespaceSockets.OriginalDestination(client);
        if (original is null || IPAddress.IsLoopback(original.Address))
        {
            EgressLog.Refused(_logger, original, null, "not a redirected connection");
            return;
        }

        var tls = rules.TlsPorts.Contains(original.Port);
        var (preface, head, filled) = await ReadPrefaceAsync(client, buffer, tls, _stop.Token).ConfigureAwait(false);
        if (preface.Status != PrefaceStatus.Complete && rules.AllowedDomains is not null)
        {
            await RefuseAsync(client, tls, original, null, "unreadable ClientHello or request head").ConfigureAwait(false);
            return;
        }

        if (!rules.Allows(preface.Host))
        {
            await RefuseAsync(client, tls, original, preface.Host, "not on the allow-list").ConfigureAwait(false);
            return;
        }

        // An allowed name goes to the name's address, never to one the sandbox picked (see EgressResolver).
        var destination = preface.Host is null ? null : await _resolver.DestinationAsync(preface.Host, original, _stop.Token).ConfigureAwait(false);
        if (destination is null && rules.AllowedDomains is not null)
        {
            await RefuseAsync(client, tls, original, preface.Host, "the name does not resolve").ConfigureAwait(false);
            return;
        }

        var first = head is null
            ? buffer.AsMemory(0, filled)
            : (byte[])[.. head.Rewrite(destination is null ? new Dictionary<string, string>() : rules.HeadersFor(preface.Host)), .. buffer.AsSpan(head.Length, filled - head.Length)];
        destination ??= original;
        using var upstream = await NamespaceSockets.CreateAsync(_namespacePath, NamespaceSockets.MarkedTcp).ConfigureAwait(false);
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            connecting.CancelAfter(_limits.ConnectTimeout);
            await upstream.ConnectAsync(destination, connecting.Token).ConfigureAwait(false);
        }

        EgressLog.Allowed(_logger, preface.Host, destination);
        await upstream.SendAsync(first, SocketFlags.None, _stop.Token).ConfigureAwait(false);
        await SpliceAsync(client, upstream).ConfigureAwait(false);
    }

    private async Task<(Preface Preface, HttpRequestHead? Head, int Filled)> ReadPrefaceAsync(Socket client, byte[] buffer, bool tls, CancellationToken ct)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(ct);
        patience.CancelAfter(_limits.PrefaceTimeout);
        var limit = tls ? TlsClientHello.MaxPrefaceBytes : HttpRequestHead.MaxBytes;
        var filled = 0;
        while (filled < limit)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(filled, limit - filled), SocketFlags.None, patience.Token).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            filled += read;
            HttpRequestHead? head = null;
            var preface = tls ? TlsClientHello.Read(buffer.AsSpan(0, filled)) : HttpRequestHead.Read(buffer.AsSpan(0, filled), out head);
            if (preface.Status != PrefaceStatus.NeedMore)
            {
                return (preface, head, filled);
            }
        }
        return (Preface.Invalid, null, filled);
    }

    private async Task RefuseAsync(Socket client, bool tls, IPEndPoint destination, string? host, string reason)
    {
        EgressLog.Refused(_logger, destination, host, reason);
        if (!tls)
        {
            var body = $"Egress to {host ?? destination.Address.ToString()} is not allowed by this sandbox's network policy ({reason}).\n";
            var response = $"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {Encoding.ASCII.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";
            await client.SendAsync(Encoding.ASCII.GetBytes(response), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Both);
        }
    }

    private async Task SpliceAsync(Socket client, Socket upstream)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        idle.CancelAfter(_limits.IdleTimeout);
        await Task.WhenAll(PumpAsync(client, upstream, idle), PumpAsync(upstream, client, idle)).ConfigureAwait(false);
    }

    private async Task PumpAsync(Socket from, Socket to, CancellationTokenSource idle)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer.AsMemory(0, BufferSize), SocketFlags.None, idle.Token).ConfigureAwait(false)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, idle.Token).ConfigureAwait(false);
                idle.CancelAfter(_limits.IdleTimeout);
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch
        {
            // One side failed: end the other direction too instead of leaving it to the idle timeout.
            await idle.CancelAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Stops accepting, ends every connection and waits for them.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        for (var i = 0; i < _limits.MaxConnections; i++)
        {
            await _slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _slots.Dispose();
        _stop.Dispose();
    }
}
