using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// What the next engine needs to adopt a running container: where its host resources are, its init, its network
/// namespace, the environment its processes get, and the agent channel's seal state.
/// </summary>
internal sealed record ContainerHandover
{
    public required string Id { get; init; }

    /// <summary>The runtime that runs it (<see cref="RuntimeFlavor"/>'s name): only that runtime adopts it.</summary>
    public required string Runtime { get; init; }

    /// <summary>The agent channel's pipes, by inode, found again among the init's descriptors (runsc: the Sentry's).</summary>
    public ChannelPipes? Pipes { get; init; }
    public required string BundleDirectory { get; init; }
    public required string RuntimeRoot { get; init; }
    public required string CgroupsPath { get; init; }
    public string? WritableDirectory { get; init; }

    /// <summary>runsc only: the network namespace it was launched in (inside the sandbox's user namespace); null otherwise.</summary>
    public string? LaunchNetworkNamespace { get; init; }

    /// <summary>The open network's namespace name (under /run/netns); null for a blocked network.</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>An open network's allowed CIDRs, put in force again by the adopting engine.</summary>
    public IReadOnlyList<string> AllowedCidrs { get; init; } = [];

    /// <summary>The open network was restricted to <see cref="AllowedCidrs"/> even when the list is empty.</summary>
    public bool Restricted { get; init; }

    /// <summary>The init's (the agent's) host pid.</summary>
    public required int InitPid { get; init; }

    /// <summary>The agent's protocol version (<see cref="Agent.Protocol.Frames.Version"/>): an engine adopts only agents that speak its own.</summary>
    public required uint AgentProtocol { get; init; }

    public required string Hostname { get; init; }
    public IReadOnlyDictionary<string, string> ImageEnv { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
    public string? Workdir { get; init; }
    public string? ImageWorkdir { get; init; }

    /// <summary>The seal's key halves and sequence numbers (engine end) and the last process id used.</summary>
    public required ulong SealK0 { get; init; }
    public required ulong SealK1 { get; init; }
    public required ulong SealSent { get; init; }
    public required ulong SealReceived { get; init; }
    public required int NextId { get; init; }

    /// <summary>The entrypoint's channel id; null for a sandbox without one.</summary>
    public uint? EntrypointChannelId { get; init; }

    /// <summary>
    /// Ends a container that is not adopted (an engine that cannot, or a handover that cannot be read): SIGKILL to its
    /// init, if it still runs in its cgroup; the leftover sweep then removes the rest.
    /// </summary>
    public static async Task KillInitAsync(int initPid, string cgroupsPath)
    {
        using var init = SandboxInit.Detached(initPid, cgroupsPath);
        if (!init.HasExited)
        {
            init.Kill();
            await init.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
    }

    internal AgentChannelState ChannelState => new(new Agent.Protocol.FrameSealState(SealK0, SealK1, SealSent, SealReceived), NextId);
}

internal sealed partial class ContainerHandle
{
    /// <summary>
    /// True when this container can be handed to the next engine: a detached init still running (crun's agent, or
    /// runsc's Sentry holding the agent's pipes; foreground runtimes end with the engine), whose channel pipes are known,
    /// in a network of its own (blocked, or slirp4netns's without an egress proxy), not a sidecar.
    /// </summary>
    public bool CanHandOver => _resources.Flavor is RuntimeFlavor.Crun or RuntimeFlavor.Runsc && _resources.Init is { Pid: not null, HasExited: false }
        && _resources.ChannelPipes is not null && !_exited.Task.IsCompleted && !_terminating
        && _spec.Network.Egress is null && _spec.Subcontainer is null && _spec.JoinNetworkNamespace is null;

    /// <summary>
    /// Hands the running container to the next engine: the agent keeps everything running and waits up to
    /// <paramref name="grace"/> for it; this engine stops following the init, stops slirp4netns (the next engine starts
    /// its own on the same namespace) and keeps every host resource in place. Null when <see cref="CanHandOver"/> is false.
    /// </summary>
    public async Task<ContainerHandover?> HandOverAsync(TimeSpan grace, CancellationToken ct)
    {
        if (!CanHandOver || _resources.Init is not { Pid: { } pid } init)
        {
            return null;
        }

        var channel = await _channel.HandOverAsync(grace, ct).ConfigureAwait(false);
        if (_resources.Network is { } network)
        {
            await network.StopForHandoverAsync().ConfigureAwait(false);
        }

        init.Dispose();
        return new ContainerHandover
        {
            Id = Id,
            Runtime = _resources.Flavor.ToString(),
            Pipes = _resources.ChannelPipes,
            BundleDirectory = _resources.BundleDirectory,
            RuntimeRoot = _resources.RuntimeRoot,
            CgroupsPath = _resources.CgroupsPath,
            WritableDirectory = _resources.WritableDirectory,
            LaunchNetworkNamespace = _resources.LaunchNetworkNamespace,
            NetworkNamespace = _resources.Network?.NamespaceName,
            AllowedCidrs = _spec.Network.AllowedCidrs,
            Restricted = _spec.Network.Restricted,
            InitPid = pid,
            AgentProtocol = Agent.Protocol.Frames.Version,
            Hostname = _spec.Hostname,
            ImageEnv = _spec.ImageEnv,
            Env = _spec.Env,
            Workdir = _spec.Workdir,
            ImageWorkdir = _spec.ImageWorkdir,
            SealK0 = channel.Seal.K0,
            SealK1 = channel.Seal.K1,
            SealSent = channel.Seal.Sent,
            SealReceived = channel.Seal.Received,
            NextId = channel.NextId,
            EntrypointChannelId = Entrypoint?.ChannelId,
        };
    }

    /// <summary>Marks an adopted container's entrypoint (or its absence): its end is the sandbox's end, as at a start.</summary>
    internal void AdoptEntrypoint(SupervisedProcess? entrypoint)
    {
        Entrypoint = entrypoint;
        _entrypointStarted.TrySetResult(entrypoint);
    }
}
