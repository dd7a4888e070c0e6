using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TypedSandbox.Validation;

/// <summary>CIDR ranges of a network allow-list: an IPv4 address in four dotted parts or an IPv6 address, '/', a prefix length.</summary>
internal static class Cidrs
{
    /// <summary>Checks a CIDR range.</summary>
    /// <returns><see langword="null"/> when valid, otherwise Modal's message for it: <c>Invalid CIDR: value</c>.</returns>
    public static string? Check(string? cidr) => IsValid(cidr) ? null : "Invalid CIDR: " + cidr;

    private static bool IsValid(string? cidr)
    {
        var slash = cidr?.IndexOf('/') ?? -1;
        if (cidr is null || slash <= 0 || slash == cidr.Length - 1)
        {
            return false;
        }

        var address = cidr.Substring(0, slash);
        var prefix = cidr.Substring(slash + 1);
        if (prefix.Length > 3 || !int.TryParse(prefix, NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            || !IPAddress.TryParse(address, out var parsed))
        {
            return false;
        }

        // IPAddress also reads "10.1" as 10.0.0.1: a range must spell all four parts.
        return parsed.AddressFamily == AddressFamily.InterNetwork
            ? address.Split('.').Length == 4 && length <= 32
            : address.IndexOf('%') < 0 && length <= 128;
    }
}
