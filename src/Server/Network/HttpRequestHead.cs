using System.Text;

namespace TypedSandbox.Server.Network;

/// <summary>
/// The head of a plain HTTP/1.x request (request line and headers), read to learn its Host and to set headers on the
/// way out. Bounded: at most <see cref="MaxBytes"/> bytes and <see cref="MaxHeaders"/> header lines; past either, or
/// malformed (no single Host, a bare LF, obsolete line folding), the request is refused rather than guessed at.
/// </summary>
internal sealed class HttpRequestHead
{
    /// <summary>The largest head the proxy reads (what nginx allows by default in one buffer, 16 KiB).</summary>
    public const int MaxBytes = 16 * 1024;

    /// <summary>The most header lines a head may have.</summary>
    public const int MaxHeaders = 100;

    private static readonly byte[] End = "\r\n\r\n"u8.ToArray();
    private readonly List<KeyValuePair<string, string>> _headers;

    private HttpRequestHead(string requestLine, List<KeyValuePair<string, string>> headers, int length, string? host)
    {
        RequestLine = requestLine;
        _headers = headers;
        Length = length;
        Host = host;
    }

    /// <summary>"GET /path HTTP/1.1".</summary>
    public string RequestLine { get; }

    /// <summary>Bytes of the head in what the client sent, the blank line included; what follows is the body.</summary>
    public int Length { get; }

    /// <summary>The Host header's name (port removed), or null when it is an address.</summary>
    public string? Host { get; }

    /// <summary>The header lines in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers => _headers;

    /// <summary>Whether <paramref name="c"/> may appear in a header name (RFC 9110 token).</summary>
    public static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    /// <summary>Parses the bytes received so far; <paramref name="head"/> is set when the status is Complete.</summary>
    public static Preface Read(ReadOnlySpan<byte> data, out HttpRequestHead? head)
    {
        head = null;
        var end = data[..Math.Min(data.Length, MaxBytes)].IndexOf(End);
        if (end < 0)
        {
            return data.Length >= MaxBytes || !Ascii.IsValid(data[..Math.Min(data.Length, 8)]) ? Preface.Invalid : Preface.NeedMore;
        }

        var text = data[..end];
        if (!Ascii.IsValid(text) || text.Contains((byte)0))
        {
            return Preface.Invalid;
        }

        var lines = Encoding.ASCII.GetString(text).Split("\r\n");
        if (lines.Length - 1 > MaxHeaders || !IsRequestLine(lines[0]))
        {
            return Preface.Invalid;
        }

        var headers = new List<KeyValuePair<string, string>>(lines.Length - 1);
        string? hostValue = null;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || line.Contains('\n', StringComparison.Ordinal) || !line.AsSpan(0, colon).ToString().All(IsTokenChar))
            {
                return Preface.Invalid; // also obsolete folding (a line starting with a space has no token before ':')
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                if (hostValue is not null)
                {
                    return Preface.Invalid; // two Hosts: which one the server believes is not ours to guess
                }

                hostValue = value;
            }
            headers.Add(new(name, value));
        }

        if (hostValue is null)
        {
            return Preface.Invalid;
        }

        head = new HttpRequestHead(lines[0], headers, end + End.Length, HostName.Normalize(WithoutPort(hostValue)));
        return new Preface(PrefaceStatus.Complete, head.Host);
    }

    /// <summary>
    /// The head to send upstream with <paramref name="replacements"/> set (existing headers of those names removed).
    /// With any replacement the request also gets <c>Connection: close</c>, so a client's next request opens a new
    /// connection whose head the proxy reads and rewrites too.
    /// </summary>
    public byte[] Rewrite(IReadOnlyDictionary<string, string> replacements)
    {
        ArgumentNullException.ThrowIfNull(replacements);
        var text = new StringBuilder(RequestLine).Append("\r\n");
        var closeAfter = replacements.Count > 0;
        foreach (var (name, value) in _headers)
        {
            var dropped = replacements.ContainsKey(name)
                || closeAfter && (name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase));
            if (!dropped)
            {
                text.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        foreach (var (name, value) in replacements)
        {
            text.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (closeAfter)
        {
            text.Append("Connection: close\r\n");
        }

        return Encoding.ASCII.GetBytes(text.Append("\r\n").ToString());
    }

    private static bool IsRequestLine(string line)
    {
        var parts = line.Split(' ');
        return parts.Length == 3 && parts[0].Length > 0 && parts[0].All(IsTokenChar) && parts[1].Length > 0
            && parts[2] is "HTTP/1.1" or "HTTP/1.0";
    }

    private static string WithoutPort(string host)
    {
        if (host.StartsWith('['))
        {
            return host; // an IPv6 literal: never a name
        }

        var colon = host.LastIndexOf(':');
        return colon < 0 ? host : host[..colon];
    }
}
