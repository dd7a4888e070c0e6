using System.Net;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests.Access;

/// <summary>
/// A network namespace joined to the host by a veth pair: the host side gets an address beyond loopback for an engine
/// to bind to, the namespace side runs clients. Removed on dispose, also after a failed set-up.
/// </summary>
internal sealed class ClientNamespace : IAsyncDisposable
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly int _subnet = Random.Shared.Next(1, 250);
    private bool _created;

    /// <summary>The namespace's name (for <c>ip netns exec</c>).</summary>
    public string Name => "tsbs-" + _suffix;

    /// <summary>The host side's address: where an engine binds.</summary>
    public IPAddress HostAddress => IPAddress.Parse($"10.233.{_subnet}.1");

    private string HostLink => "tsbsh" + _suffix;

    private string PeerLink => "tsbsp" + _suffix;

    /// <summary>Creates the namespace and the veth pair.</summary>
    public static async Task<ClientNamespace> CreateAsync()
    {
        var space = new ClientNamespace();
        try
        {
            await Ip("netns", "add", space.Name);
            space._created = true;
            await Ip("link", "add", space.HostLink, "type", "veth", "peer", "name", space.PeerLink);
            await Ip("link", "set", space.PeerLink, "netns", space.Name);
            await Ip("addr", "add", $"{space.HostAddress}/30", "dev", space.HostLink);
            await Ip("link", "set", space.HostLink, "up");
            await Ip("-n", space.Name, "addr", "add", $"10.233.{space._subnet}.2/30", "dev", space.PeerLink);
            await Ip("-n", space.Name, "link", "set", space.PeerLink, "up");
            await Ip("-n", space.Name, "link", "set", "lo", "up");
            return space;
        }
        catch
        {
            await space.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <paramref name="argv"/> inside the namespace (as root, bounded by two minutes).</summary>
    public Task<ProcessOutcome> RunAsync(IEnumerable<string> argv, IReadOnlyDictionary<string, string> environment) =>
        ExternalProcess.RunAsync("ip", ["netns", "exec", Name, .. argv], "/", environment, TimeSpan.FromMinutes(2));

    public async ValueTask DisposeAsync()
    {
        if (_created)
        {
            // Deleting the host side removes the pair; deleting the namespace removes what is left in it.
            await ExternalProcess.RunAsync("ip", ["link", "del", HostLink], "/", null, TimeSpan.FromSeconds(10));
            await ExternalProcess.RunAsync("ip", ["netns", "del", Name], "/", null, TimeSpan.FromSeconds(10));
        }
    }

    private static async Task Ip(params string[] args)
    {
        var outcome = await ExternalProcess.RunAsync("ip", args, "/", null, TimeSpan.FromSeconds(10));
        if (outcome.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed: {outcome.Stderr}");
        }
    }
}
