using TypedSandbox.Server.Network;

namespace TypedSandbox.Server.Isolation;

/// <summary>Which ports an open sandbox may serve on.</summary>
internal sealed partial class SandboxNetwork
{
    private const string UnprivilegedPortStart = "/proc/sys/net/ipv4/ip_unprivileged_port_start";

    /// <summary>
    /// Lets the sandbox listen on ports below 1024 (a web server on 80), as Docker does for a container's own network
    /// namespace: the engine made this namespace, so the sandbox's root, in a user namespace of its own, holds no
    /// CAP_NET_BIND_SERVICE over it. A port bound there is reachable only inside the sandbox's own network.
    /// </summary>
    private static async Task AllowLowPortsAsync(string namespacePath) => await NamespaceSockets.RunAsync(namespacePath, static () =>
    {
        File.WriteAllText(UnprivilegedPortStart, "0");
        return true;
    }).ConfigureAwait(false);
}
