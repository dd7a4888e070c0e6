namespace TypedSandbox.Server.Isolation;

/// <summary>An open network across an engine handover: the namespace stays, slirp4netns is the engine's and is restarted.</summary>
internal sealed partial class SandboxNetwork
{
    /// <summary>The open network's namespace name (under /run/netns); null for a blocked or joined network.</summary>
    public string? NamespaceName => _namespaceName;

    private bool _keepNamespace;

    /// <summary>
    /// Stops slirp4netns for a handover and keeps the namespace (with its filter) for the next engine. Connections
    /// through slirp4netns end with it (its NAT state is its own); the next engine's starts empty.
    /// </summary>
    public async Task StopForHandoverAsync()
    {
        _keepNamespace = true;
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The open network of an adopted sandbox: a new slirp4netns on the namespace the engine before made, the allow-list
    /// put in force again, slirp4netns moved into the sandbox's cgroups. Not awaited: the sandbox's processes and its
    /// channel do not need it, and an engine adopting many sandboxes serves sooner (slirp4netns and the namespace's
    /// settings take a process start each). A network that does not come back is logged; the sandbox runs on without it.
    /// </summary>
    public static SandboxNetwork Resume(string namespaceName, NetworkPolicy policy, string cgroupsPath, ContainerRuntimeOptions options, ILogger logger)
    {
        var network = new SandboxNetwork(namespaceName, StartSlirp(NetworkNamespaceFiles.PathOf(namespaceName), options), logger)
        {
            _extraClosed = options.ExtraClosedNetworks,
        };
        network._ready = network.ResumeInBackgroundAsync(policy, cgroupsPath, options);
        return network;
    }

    private async Task ResumeInBackgroundAsync(NetworkPolicy policy, string cgroupsPath, ContainerRuntimeOptions options)
    {
        try
        {
            await BecomeReadyAsync(policy, options, CancellationToken.None).ConfigureAwait(false);
            JoinCgroups(cgroupsPath);
        }
        catch (Exception e) when (e is ContainerStartException or IOException or InvalidOperationException or UnauthorizedAccessException
            or System.ComponentModel.Win32Exception)
        {
            IsolationLog.AdoptedNetworkFailed(_logger, _namespaceName!, e.Message);
        }
    }
}
