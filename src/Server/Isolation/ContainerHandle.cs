using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// A running sandbox. Under crun and runsc the runtime runs detached: it hands the engine's pipes to the sandbox's init
/// (our agent; under runsc, inside the Sentry) and exits, and the engine follows the init (runsc: the Sentry) through a
/// process descriptor (<see cref="SandboxInit"/>). runc and runsc subcontainers (sidecars) run in the foreground as the
/// engine's children and stay the init's parent. The agent reaps everything inside, so
/// the engine needs no subreaper. Disposing terminates the sandbox and releases everything.
/// </summary>
internal sealed partial class ContainerHandle : IRunningContainer
{
    private ContainerSpec _spec;
    private int _claimed;
    private readonly SandboxResources _resources;
    private readonly AgentChannel _channel;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<ProcessExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _lifecycle;
    private readonly SemaphoreSlim _snapshotLock = new(1, 1);
    private readonly TaskCompletionSource<SupervisedProcess?> _entrypointStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _terminating;

    internal ContainerHandle(ContainerSpec spec, SandboxResources resources, AgentChannel channel, HostProcess? runtime, ILogger logger)
    {
        _spec = spec;
        _resources = resources;
        _channel = channel;
        _logger = logger;
        _lifecycle = WatchAsync(runtime);
    }

    /// <summary>The container id.</summary>
    public string Id => _spec.Id;

    /// <summary>The entrypoint process; null for an idle sandbox.</summary>
    public SupervisedProcess? Entrypoint { get; private set; }

    /// <summary>Host path of the sandbox's root filesystem while it runs (the overlay's merged view).</summary>
    public string RootfsPath => _resources.RootfsPath;

    /// <summary>What the sandbox holds on the host (runtime, root, flavor): for mounts into the running sandbox.</summary>
    internal SandboxResources Resources => _resources;

    /// <summary>Host path of the overlay's private upper directory: everything the sandbox changed.</summary>
    public string UpperDirectory => _resources.UpperDirectory;

    /// <summary>
    /// Completes when the sandbox ended: its entrypoint exited (its status), it was terminated (SIGKILL), or its init
    /// died. Host resources are released right after.
    /// </summary>
    public Task<ProcessExit> Exited => _exited.Task;

    /// <summary>Runs a process in the sandbox through its agent (a few ms): it shares the sandbox's namespaces,
    /// cgroups, capabilities and seccomp filter.</summary>
    /// <exception cref="ExecStartException">The process could not start (executable not found, bad directory...).</exception>
    /// <exception cref="SandboxEndedException">The sandbox has ended.</exception>
    public Task<SupervisedProcess> ExecAsync(ProcessSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Args.Count == 0)
        {
            throw new ArgumentException("A process needs at least one argument.", nameof(spec));
        }

        if (_exited.Task.IsCompleted)
        {
            throw new SandboxEndedException();
        }

        return _channel.SpawnAsync(spec, EnvironmentFor(spec), WorkdirFor(spec), isMain: false, ct);
    }

    /// <summary>
    /// Opens a TCP connection to <paramref name="port"/> on the sandbox's own loopback (made by the agent inside the
    /// sandbox, so it works with blocked networking and under runsc): the building block of tunnels.
    /// </summary>
    /// <exception cref="SandboxConnectException">Nothing in the sandbox accepted the connection.</exception>
    /// <exception cref="SandboxEndedException">The sandbox has ended.</exception>
    public Task<SandboxConnection> ConnectAsync(int port, CancellationToken ct)
    {
        if (_exited.Task.IsCompleted)
        {
            throw new SandboxEndedException();
        }

        return _channel.ConnectAsync(port, ct);
    }

    /// <summary>
    /// Copies everything the sandbox changed in its root filesystem (the overlay upper directory, in overlayfs form) to
    /// <paramref name="destination"/>, a directory that must not exist yet; the sandbox is paused for the copy only
    /// (see <see cref="WritableLayerSnapshot"/>). Volumes are not part of it; /tmp is (it belongs to the writable layer).
    /// </summary>
    /// <exception cref="SandboxEndedException">The sandbox has ended.</exception>
    public async Task CopyWritableLayerAsync(string destination, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(destination);
        if (_exited.Task.IsCompleted)
        {
            throw new SandboxEndedException();
        }

        await _snapshotLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_resources.Flavor == RuntimeFlavor.Runsc)
            {
                await FlushGuestCachesAsync(ct).ConfigureAwait(false);
            }

            if (_exited.Task.IsCompleted || _terminating)
            {
                throw new SandboxEndedException();
            }

            await WritableLayerSnapshot.CopyAsync(_resources, _spec.WritableLayer?.UpperDirectory ?? _resources.UpperDirectory, destination, ct)
                .ConfigureAwait(false);
        }
        finally
        {
            _snapshotLock.Release();
        }
    }

    // gVisor keeps written file data in its own kernel's page cache; sync(2) inside writes it through to the host.
    private async Task FlushGuestCachesAsync(CancellationToken ct)
    {
        try
        {
            var sync = await ExecAsync(new ProcessSpec(["sync"]), ct).ConfigureAwait(false);
            await using (sync.ConfigureAwait(false))
            {
                await sync.Completion.WaitAsync(ct).ConfigureAwait(false);
            }
        }
        catch (ExecStartException)
        {
            // An image without `sync`: the copy may miss data written in the last moments.
        }
    }

    /// <summary>Kills everything in the sandbox, deletes the container, unmounts its rootfs, removes its cgroups and
    /// network; returns when all of that is done.</summary>
    public async Task TerminateAsync(CancellationToken ct)
    {
        _terminating = true;
        await _resources.CleanupAsync().WaitAsync(ct).ConfigureAwait(false);
        await _lifecycle.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Terminates the sandbox (see <see cref="TerminateAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await TerminateAsync(CancellationToken.None).ConfigureAwait(false);
        if (Entrypoint is not null)
        {
            await Entrypoint.DisposeAsync().ConfigureAwait(false);
        }

        _snapshotLock.Dispose();
    }

    /// <summary>Takes on the environment, working directory and entrypoint of the sandbox that claims this pooled container.</summary>
    public async Task ClaimAsync(ContainerClaim claim, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(claim);
        if (_spec.Entrypoint is not null || _spec.Env.Count > 0 || Interlocked.Exchange(ref _claimed, 1) == 1)
        {
            throw new InvalidOperationException($"Container {Id} already belongs to a sandbox.");
        }

        if (_exited.Task.IsCompleted)
        {
            throw new SandboxEndedException();
        }

        _spec = _spec with { Env = claim.Env, Workdir = claim.Workdir, Entrypoint = claim.Entrypoint };
        if (claim.Entrypoint is { } entrypoint)
        {
            await StartEntrypointAsync(entrypoint, ct).ConfigureAwait(false);
        }
    }

    internal async Task StartEntrypointAsync(ProcessSpec entrypoint, CancellationToken ct)
    {
        try
        {
            Entrypoint = await _channel.SpawnAsync(entrypoint, EnvironmentFor(entrypoint), WorkdirFor(entrypoint), isMain: true, ct).ConfigureAwait(false);
        }
        finally
        {
            _entrypointStarted.TrySetResult(Entrypoint);
        }
    }

    // runtime: the runtime's process of the start (null for a sandbox adopted from the engine before).
    private async Task WatchAsync(HostProcess? runtime)
    {
        var init = _resources.Init!;
        await init.Exited.ConfigureAwait(false);
        if (runtime is not null)
        {
            await runtime.OutputClosed.ConfigureAwait(false);
        }

        await _channel.Closed.ConfigureAwait(false);
        var exit = await ExitOf(init.ExitCode).ConfigureAwait(false);
        IsolationLog.Ended(_logger, Id, exit);
        _exited.TrySetResult(exit);
        await _channel.DisposeAsync().ConfigureAwait(false);
        await _resources.CleanupAsync().ConfigureAwait(false);
        if (runtime is not null)
        {
            await runtime.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<ProcessExit> ExitOf(int? runtimeExitCode)
    {
        if (_terminating)
        {
            return new ProcessExit(null, 9, false);
        }
        // An entrypoint that exits at once may end the sandbox before StartEntrypointAsync has returned.
        if (_spec.Entrypoint is not null && await _entrypointStarted.Task.ConfigureAwait(false) is { } main)
        {
            return await main.Completion.ConfigureAwait(false);
        }
        // The runtime reports a signal-killed init as 128 + signal, like a shell. A detached init's status is not ours
        // to read; the agent only ends by itself when its channel closes, so an end the engine did not ask for is a kill.
        var exit = runtimeExitCode switch
        {
            null => new ProcessExit(null, 9, false),
            > 128 and < 160 => new ProcessExit(null, runtimeExitCode.Value - 128, false),
            _ => new ProcessExit(runtimeExitCode, null, false),
        };
        return exit with { Cause = LimitCause() };
    }

    /// <summary>Why a sandbox nobody stopped ended, when one of its limits explains it (<see cref="SandboxEndCause"/>).</summary>
    private string? LimitCause() => SandboxEndCause.Describe(
        _resources.Flavor, OciConfig.LimitsFor(_spec.Limits, _resources.Flavor), _resources.ReadOomKillCount(), _resources.ReadPidsLimitHits());

    private IReadOnlyList<string> EnvironmentFor(ProcessSpec process) => ExecEnvironment.Build(_spec.ImageEnv, _spec.Env, process.Env, _spec.Hostname, process.Terminal);

    private string WorkdirFor(ProcessSpec process) => process.Workdir ?? _spec.Workdir ?? _spec.ImageWorkdir ?? "/";
}
