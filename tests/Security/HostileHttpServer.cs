using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// A scripted HTTP/1.1 server on loopback (127.0.0.1 and, when it can, ::1 on the same port) for hostile registry
/// answers: each request's path goes to a handler that writes the whole response to the connection, which then closes.
/// </summary>
internal sealed class HostileHttpServer : IAsyncDisposable
{
    private readonly List<TcpListener> _listeners = [];
    private readonly Func<string, Stream, CancellationToken, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private int _requests;

    public HostileHttpServer(Func<string, Stream, CancellationToken, Task> handler)
    {
        _handler = handler;
        var v4 = new TcpListener(IPAddress.Loopback, 0);
        v4.Start();
        _listeners.Add(v4);
        Port = ((IPEndPoint)v4.LocalEndpoint).Port;
        try
        {
            var v6 = new TcpListener(IPAddress.IPv6Loopback, Port);
            v6.Start();
            _listeners.Add(v6);
        }
        catch (SocketException)
        {
            // No IPv6 loopback here: the IPv4 listener alone still sees every IPv4 and IPv4-mapped attempt.
        }

        foreach (var listener in _listeners)
        {
            _loops.Add(AcceptAsync(listener));
        }
    }

    public int Port { get; }

    /// <summary>Requests received so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public static async Task WriteHeadAsync(Stream stream, string status, IEnumerable<(string Name, string Value)> headers, CancellationToken cancellationToken)
    {
        var head = new StringBuilder($"HTTP/1.1 {status}\r\nConnection: close\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), cancellationToken);
    }

    public static async Task WriteAsync(Stream stream, string status, IEnumerable<(string Name, string Value)> headers, byte[] body, CancellationToken cancellationToken)
    {
        await WriteHeadAsync(stream, status, [.. headers, ("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))], cancellationToken);
        await stream.WriteAsync(body, cancellationToken);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var path = await ReadRequestPathAsync(stream, _stop.Token);
                Interlocked.Increment(ref _requests);
                await _handler(path, stream, _stop.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The engine hung up (as it should on a hostile answer) or the test ended.
            }
        }
    }

    private static async Task<string> ReadRequestPathAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        var requestLine = Encoding.ASCII.GetString(buffer, 0, length).Split("\r\n")[0].Split(' ');
        return requestLine.Length >= 2 ? requestLine[1] : "";
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var listener in _listeners)
        {
            listener.Stop();
        }

        await Task.WhenAll(_loops);
        _stop.Dispose();
    }
}
