using System.Net;

namespace TypedSandbox.Server.Network;

/// <summary>
/// One entry of an outbound domain allow-list, as Modal's SDK documents it: an exact name ("api.example.com"), a
/// <c>*.</c> wildcard prefix ("*.example.com": the apex and every name below it, at any depth) or a bare <c>*</c>
/// (every name). Names compare case-insensitively without a trailing dot; an IP address is never a name.
/// </summary>
internal sealed record DomainPattern
{
    private DomainPattern(string suffix, bool wildcard)
    {
        Suffix = suffix;
        IsWildcard = wildcard;
    }

    /// <summary>The name (exact) or the apex (wildcard; empty for a bare <c>*</c>), lower case.</summary>
    public string Suffix { get; }

    /// <summary>Whether names below <see cref="Suffix"/> match too.</summary>
    public bool IsWildcard { get; }

    /// <summary>Parses one allow-list entry; null when it is not a host name or a <c>*.</c> pattern.</summary>
    public static DomainPattern? TryParse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text == "*")
        {
            return new DomainPattern("", wildcard: true);
        }

        var wildcard = text.StartsWith("*.", StringComparison.Ordinal);
        var name = HostName.Normalize(wildcard ? text[2..] : text);
        return name is null ? null : new DomainPattern(name, wildcard);
    }

    /// <summary>Whether <paramref name="host"/> (as a client named it in SNI or Host) is one of the allowed names.</summary>
    public bool Matches(string host)
    {
        var name = HostName.Normalize(host);
        if (name is null)
        {
            return false;
        }

        if (!IsWildcard)
        {
            return name == Suffix;
        }

        return Suffix.Length == 0 || name == Suffix || name.EndsWith("." + Suffix, StringComparison.Ordinal);
    }

    /// <inheritdoc/>
    public override string ToString() => IsWildcard ? (Suffix.Length == 0 ? "*" : "*." + Suffix) : Suffix;
}

/// <summary>DNS host names as the egress proxy accepts them (RFC 1123 labels, ASCII only; IDNs arrive as punycode).</summary>
internal static class HostName
{
    private const int MaxLength = 253;

    /// <summary>The name in lower case without a trailing dot, or null when it is not a DNS name (an IP literal is not).</summary>
    public static string? Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var name = text.EndsWith('.') ? text[..^1] : text;
        if (name.Length == 0 || name.Length > MaxLength || IPAddress.TryParse(name, out _) || name.StartsWith('['))
        {
            return null;
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return null;
            }
        }

        // A name of digits and dots only ("10.1") is an address to getaddrinfo, never a name.
        return name.All(c => char.IsAsciiDigit(c) || c == '.') ? null : name.ToLowerInvariant();
    }
}
