using System.Net;
using System.Net.Sockets;

namespace TypedSandbox.Server.Images;

/// <summary>
/// Where the registry client may connect: any public address; a loopback, link-local, private or otherwise
/// non-public address (IPv4 and IPv6, IPv4 embedded in IPv6 included) only when it is the configured registry or
/// mirror itself (its own host and port), or inside a network the operator allowed. Checked on the address a
/// connection is actually opened to, so a redirect, a token realm or a name that resolves there cannot reach
/// services on the engine's host or network.
/// </summary>
internal sealed class RegistryAddressPolicy
{
    /// <summary>The engine switch that allows a non-public network for registries (repeatable, CIDR).</summary>
    public const string CommandLineSwitch = "--registry-allow-network";

    private static readonly IPNetwork[] NonPublicV4 =
    [
        IPNetwork.Parse("0.0.0.0/8"),       // "this network"; 0.0.0.0 reaches the host itself
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),   // carrier-grade NAT
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),  // link-local, cloud metadata
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"),
        IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("224.0.0.0/3"),     // multicast, reserved, broadcast
    ];

    private static readonly IPNetwork[] NonPublicV6 =
    [
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("64:ff9b:1::/48"),  // local-use NAT64
        IPNetwork.Parse("100::/64"),        // discard
        IPNetwork.Parse("2001:db8::/32"),   // documentation
        IPNetwork.Parse("fc00::/7"),        // unique local
        IPNetwork.Parse("fe80::/10"),       // link-local
        IPNetwork.Parse("fec0::/10"),       // site-local (deprecated)
        IPNetwork.Parse("ff00::/8"),        // multicast
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork V4Compatible = IPNetwork.Parse("::/96");

    /// <summary>Creates a policy that also allows <paramref name="allowedNetworks"/>.</summary>
    public RegistryAddressPolicy(IReadOnlyList<IPNetwork> allowedNetworks)
    {
        ArgumentNullException.ThrowIfNull(allowedNetworks);
        AllowedNetworks = allowedNetworks;
    }

    /// <summary>Only public addresses, plus each registry's own configured endpoint.</summary>
    public static RegistryAddressPolicy PublicOnly { get; } = new([]);

    /// <summary>Non-public networks the operator allowed for registries, redirects and token services.</summary>
    public IReadOnlyList<IPNetwork> AllowedNetworks { get; }

    /// <summary>True for addresses outside the public internet: loopback, private, link-local, unspecified, multicast, reserved.</summary>
    public static bool IsNonPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return NonPublicV4.Any(n => n.Contains(address));
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return true;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return IsNonPublic(address.MapToIPv4());
        }

        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address) || V4Compatible.Contains(address))
        {
            return IsNonPublic(new IPAddress(bytes.AsSpan(12, 4)));
        }

        if (SixToFour.Contains(address))
        {
            return IsNonPublic(new IPAddress(bytes.AsSpan(2, 4)));
        }

        return NonPublicV6.Any(n => n.Contains(address));
    }

    /// <summary>
    /// Whether a connection to <paramref name="address"/> is allowed: public addresses always; others when
    /// <paramref name="isConfiguredEndpoint"/> (the host and port are the registry's or mirror's own) or the operator
    /// allowed their network.
    /// </summary>
    public bool Allows(IPAddress address, bool isConfiguredEndpoint)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (isConfiguredEndpoint || !IsNonPublic(address))
        {
            return true;
        }

        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return AllowedNetworks.Any(n => n.Contains(plain));
    }

    /// <summary>Parses <c>address/prefix</c> or a bare address; throws <see cref="ArgumentException"/> when it is neither.</summary>
    public static IPNetwork ParseNetwork(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (IPNetwork.TryParse(value, out var network))
        {
            return network;
        }

        if (IPAddress.TryParse(value, out var address))
        {
            return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        }

        throw new ArgumentException(
            $"{CommandLineSwitch} '{value}' is not a network; use CIDR notation such as 10.0.0.0/8, 127.0.0.1/32 or fd00::/8.", nameof(value));
    }
}
