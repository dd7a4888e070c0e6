using System.Net.Sockets;
using System.Text;

namespace TypedSandbox.Server.Tunnels;

/// <summary>Decides whether a connection accepted by a <see cref="TunnelForward"/> may reach the sandbox.</summary>
internal interface IConnectionGate
{
    /// <summary>
    /// Reads what it needs from <paramref name="client"/>; returns the bytes to send to the sandbox first, or null when
    /// the connection is refused (the gate has answered the client itself).
    /// </summary>
    Task<byte[]?> AdmitAsync(Socket client, CancellationToken ct);
}

/// <summary>
/// The HTTP check of a connect-token forward. The token comes as <c>Authorization: Bearer …</c> or as the
/// <c>_modal_connect_token</c> query parameter (as Modal documents); none is 401, one that is unknown, expired or for
/// another sandbox or port is 403. An admitted request reaches the sandbox without the token, with the token's user
/// metadata in <c>X-Verified-User-Data</c> (a client's own such header is dropped) and with <c>Connection: close</c>,
/// so every request on the forward is checked.
/// </summary>
internal sealed class ConnectTokenGate(ConnectTokens tokens, string sandboxId, int port) : IConnectionGate
{
    private const int MaxHeadBytes = 32 * 1024;
    private const string QueryParameter = "_modal_connect_token";
    private static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(10);

    public async Task<byte[]?> AdmitAsync(Socket client, CancellationToken ct)
    {
        var (head, remainder) = await ReadHeadAsync(client, ct).ConfigureAwait(false);
        if (head is null)
        {
            await RespondAsync(client, "400 Bad Request", "Expected an HTTP request.", ct).ConfigureAwait(false);
            return null;
        }

        var lines = head.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3)
        {
            await RespondAsync(client, "400 Bad Request", "Malformed request line.", ct).ConfigureAwait(false);
            return null;
        }

        var (target, queryToken) = TakeQueryToken(requestLine[1]);
        string? headerToken = null;
        var headers = new List<string>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = colon > 0 ? line[..colon].Trim() : "";
            var value = colon > 0 ? line[(colon + 1)..].Trim() : "";
            if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                headerToken = value[7..].Trim();
            }
            else if (!name.Equals("X-Verified-User-Data", StringComparison.OrdinalIgnoreCase) && !name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                headers.Add(line);
            }
        }

        var token = headerToken ?? queryToken;
        if (token is null)
        {
            await RespondAsync(client, "401 Unauthorized", "A connect token is required (Authorization: Bearer <token>).", ct).ConfigureAwait(false);
            return null;
        }

        if (tokens.Find(token) is not { } grant || grant.SandboxId != sandboxId || grant.Port != port)
        {
            await RespondAsync(client, "403 Forbidden", "The connect token is not valid for this sandbox.", ct).ConfigureAwait(false);
            return null;
        }

        var forwarded = new StringBuilder().Append(requestLine[0]).Append(' ').Append(target).Append(' ').Append(requestLine[2]).Append("\r\n");
        foreach (var header in headers)
        {
            forwarded.Append(header).Append("\r\n");
        }

        if (grant.UserMetadata.Length > 0)
        {
            forwarded.Append("X-Verified-User-Data: ").Append(grant.UserMetadata).Append("\r\n");
        }

        forwarded.Append("Connection: close\r\n\r\n");
        return [.. Encoding.Latin1.GetBytes(forwarded.ToString()), .. remainder];
    }

    /// <summary>The request target without the token parameter, and the token it carried.</summary>
    private static (string Target, string? Token) TakeQueryToken(string target)
    {
        var question = target.IndexOf('?', StringComparison.Ordinal);
        if (question < 0)
        {
            return (target, null);
        }

        string? token = null;
        var kept = new List<string>();
        foreach (var pair in target[(question + 1)..].Split('&'))
        {
            if (pair.StartsWith(QueryParameter + "=", StringComparison.Ordinal))
            {
                token = Uri.UnescapeDataString(pair[(QueryParameter.Length + 1)..]);
            }
            else
            {
                kept.Add(pair);
            }
        }

        var path = target[..question];
        return (kept.Count == 0 ? path : path + "?" + string.Join('&', kept), token);
    }

    /// <summary>Reads up to the end of the request head; returns the head (without the blank line) and the bytes after it.</summary>
    private static async Task<(string? Head, byte[] Remainder)> ReadHeadAsync(Socket client, CancellationToken ct)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        budget.CancelAfter(HeadTimeout);
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        try
        {
            while (length < buffer.Length)
            {
                var read = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, budget.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return (null, []);
                }

                length += read;
                var end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
                if (end >= 0)
                {
                    return (Encoding.Latin1.GetString(buffer, 0, end), buffer[(end + 4)..length]);
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Too slow to send a request head: refused like a malformed one.
        }

        return (null, []);
    }

    private static async Task RespondAsync(Socket client, string status, string message, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(message + "\n");
        var head = $"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\n" +
            (status.StartsWith("401", StringComparison.Ordinal) ? "WWW-Authenticate: Bearer\r\n" : "") + "Connection: close\r\n\r\n";
        try
        {
            await client.SendAsync(Encoding.ASCII.GetBytes(head).Concat(body).ToArray(), SocketFlags.None, ct).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The client went away first.
        }
    }
}
