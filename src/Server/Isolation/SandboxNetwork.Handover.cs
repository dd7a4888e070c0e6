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
    /// put in force again, slirp4netns moved into the sandbox's cgroups.
    /// </summary>
    /// <exception cref="ContainerStartException">slirp4netns failed.</exception>
    public static async Task<SandboxNetwork> ResumeAsync(string namespaceName, NetworkPolicy policy, string cgroupsPath, ContainerRuntimeOptions options,
        ILogger logger, CancellationToken ct)
    {
        var slirp = StartSlirp(namespaceName, options);
        var network = new SandboxNetwork(namespaceName, slirp, logger);
        try
        {
            network._ready = network.BecomeReadyAsync(policy, options, ct);
            await network.WhenReadyAsync(ct).ConfigureAwait(false);
            network.JoinCgroups(cgroupsPath);
            return network;
        }
        catch
        {
            await network.StopForHandoverAsync().ConfigureAwait(false);
            throw;
        }
    }
}
