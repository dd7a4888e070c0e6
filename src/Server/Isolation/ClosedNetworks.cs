using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Destinations no open sandbox reaches, whatever its outbound policy: the host itself on any of its own addresses
/// (slirp4netns's outbound connections are host sockets, so without this rule sandbox code reaches every service the
/// host listens on beyond loopback), the cloud's instance metadata services (link-local 169.254.0.0/16, Alibaba's
/// 100.100.100.200, Azure's 168.63.129.16: credentials of the machine), "this network" 0.0.0.0/8, and multicast and
/// reserved space. The packet filter of every open sandbox's namespace rejects them before anything it allows.
/// </summary>
/// <remarks>
/// The host's addresses are read when a filter is loaded (a sandbox's start, an outbound policy update) and again when
/// they change (<see cref="HostAddressWatch"/> reloads the filters of running sandboxes). Private networks (10/8,
/// 172.16/12, 192.168/16) other than the host's own addresses stay reachable, as under Docker, unless the operator
/// closes them (<c>--closed-network</c>, <see cref="ContainerRuntimeOptions.ExtraClosedNetworks"/>); an outbound
/// allow-list (<c>cidrAllowlist</c>) keeps one sandbox off them.
/// </remarks>
internal static class ClosedNetworks
{
    /// <summary>The closed destinations that do not depend on the host.</summary>
    public static IReadOnlyList<string> Fixed { get; } =
        ["0.0.0.0/8", "169.254.0.0/16", "100.100.100.200/32", "168.63.129.16/32", "224.0.0.0/3"];

    /// <summary>
    /// The closed destinations now: <see cref="Fixed"/>, the operator's <paramref name="extra"/> networks and each IPv4
    /// address of the host not in them (loopback aside, which slirp4netns closes).
    /// </summary>
    public static IReadOnlyList<string> Current(IReadOnlyList<string> extra)
    {
        ArgumentNullException.ThrowIfNull(extra);
        IReadOnlyList<string> networks = [.. Fixed, .. extra.Where(e => !Fixed.Contains(e, StringComparer.Ordinal))];
        return [.. networks, .. HostAddresses().Where(a => !networks.Any(f => Contains(f, a))).Select(a => a.ToString() + "/32").Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Appends the OUTPUT rules that reject <paramref name="closed"/> (TCP with a reset, anything else with an ICMP
    /// error: a connect fails at once).
    /// </summary>
    public static void AppendRejects(StringBuilder rules, IEnumerable<string> closed)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(closed);
        foreach (var cidr in closed)
        {
            rules.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -d {cidr} -p tcp -j REJECT --reject-with tcp-reset\n");
            rules.Append(CultureInfo.InvariantCulture, $"-A OUTPUT -d {cidr} -j REJECT --reject-with icmp-net-prohibited\n");
        }
    }

    private static IEnumerable<IPAddress> HostAddresses()
    {
        NetworkInterface[] interfaces;
        try
        {
            interfaces = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException)
        {
            yield break;
        }

        foreach (var nic in interfaces)
        {
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
                {
                    yield return unicast.Address;
                }
            }
        }
    }

    private static bool Contains(string cidr, IPAddress address) => IPNetwork.Parse(cidr).Contains(address);
}
