using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.State;
using TypedSandbox.Server.Volumes;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// The sandbox core: create, exec, stdin, wait, terminate, tags and listing. Names and lookups live in the
/// <see cref="SandboxRegistry"/>, records in the <see cref="SandboxStore"/>, timeouts and eviction in the
/// <see cref="SandboxLifetime"/>. Every operation that counts as activity for the idle timeout goes through here.
/// Knows nothing of gRPC.
/// </summary>
internal sealed partial class SandboxManager : IAsyncDisposable
{
    /// <summary>See <see cref="SandboxLifetime.FinishedExecOutputBound"/>.</summary>
    public const long FinishedExecOutputBound = SandboxLifetime.FinishedExecOutputBound;

    private readonly SandboxRegistry _registry = new();
    private readonly IContainerRuntime _runtime;
    private readonly IReadyImages _images;
    private readonly VolumeStore _volumes;
    private readonly SandboxStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<SandboxManager> _logger;
    private readonly SandboxLifetime _lifetime;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _starting = new();
    private long _lastCreatedMs;
    private int _disposed;

    internal SandboxManager(
        IContainerRuntime runtime, IReadyImages images, VolumeStore volumes, StateDatabase database, TimeProvider clock, ILogger<SandboxManager> logger,
        WarmPoolOptions? warmPool = null)
    {
        _runtime = runtime;
        _images = images;
        _volumes = volumes;
        _store = new SandboxStore(database);
        _clock = clock;
        _logger = logger;
        _lifetime = new SandboxLifetime(_registry, _store, clock, logger);
        Catalog = new SandboxCatalog(_registry, _store, clock);
        Pool = new WarmPool(runtime, warmPool ?? new WarmPoolOptions(), clock, logger);
    }

    /// <summary>What is known of every sandbox (results, tags, listings), also of those finished before a restart.</summary>
    internal SandboxCatalog Catalog { get; }

    /// <summary>Sandboxes started ahead of the creates that will claim them (off unless configured).</summary>
    internal WarmPool Pool { get; }

    /// <summary>Creates and starts a sandbox: claims a ready one of its shape from the warm pool, or starts one.</summary>
    public Task<SandboxSession> CreateAsync(SandboxSpec spec, CancellationToken cancellationToken) => CreateAsync(spec, null, cancellationToken);

    /// <summary>
    /// Creates and starts a sandbox whose container spec <paramref name="adjust"/> changes (restores, exit snapshots);
    /// such a sandbox never comes from the warm pool. Returns once it runs; a start that failed throws.
    /// </summary>
    internal async Task<SandboxSession> CreateAsync(SandboxSpec spec, Func<string, ContainerSpec, ContainerSpec>? adjust, CancellationToken cancellationToken)
    {
        var session = await BeginCreateAsync(spec, adjust, cancellationToken).ConfigureAwait(false);
        await session.Started.ConfigureAwait(false);
        if (session.StartError is { } error)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        return session;
    }

    /// <summary>
    /// Creates a sandbox and returns once everything a caller can get wrong is checked (spec, name, image, volumes) and it
    /// is recorded, before its container runs: the start goes on in the background (<see cref="SandboxSession.Started"/>),
    /// so a client's next round trips overlap it, as with Modal's create. A start that fails ends the sandbox with an init
    /// failure whose message says why; lookups that need the container wait for the start.
    /// </summary>
    internal async Task<SandboxSession> BeginCreateAsync(SandboxSpec spec, Func<string, ContainerSpec, ContainerSpec>? adjust, CancellationToken cancellationToken)
    {
        SandboxSpecRules.Validate(spec);
        var random = ObjectIds.Random(22);
        var id = spec.V2 ? ObjectIds.NewV2SandboxId() : "sb-" + random;
        spec = Identity.SandboxIdentityStamp.Apply(spec, id);
        var poolKey = adjust is null ? WarmPoolKey.Of(spec) : null;
        // A pooled container's id is the task id it was started under; until claimed below it is owned here.
        var pooled = poolKey is { } key ? Pool.TryClaim(key) : null;
        var session = new SandboxSession(id, pooled?.Id ?? "ta-" + random, spec, NextCreationTime());
        var phases = new StartPhases();
        try
        {
            _registry.ReserveName(session);
        }
        catch
        {
            await DisposeUnclaimedAsync(pooled).ConfigureAwait(false);
            throw;
        }

        ContainerSpec containerSpec;
        // Sub-path mounts are pinned until the runtime has mounted them (the start disposes them).
        var pins = new Mounts.SubPathPins();
        try
        {
            var image = await _images.GetReadyAsync(spec.ImageId, cancellationToken).ConfigureAwait(false);
            phases.Lap("image");
            var mounts = new List<BindMount>();
            foreach (var volume in spec.Volumes)
            {
                SandboxSpecRules.RequireSafeDestination(image, volume.MountPath);
                var directory = Mounts.VolumeSubPath.Resolve(
                    await _volumes.GetDirectoryAsync(volume.VolumeId, cancellationToken).ConfigureAwait(false), volume.SubPath, pins);
                mounts.Add(new BindMount(directory, volume.MountPath, volume.ReadOnly));
            }

            phases.Lap("volumes");
            containerSpec = SandboxContainerSpec.For(session.TaskId, spec, image, mounts);
            await _store.InsertAsync(session, cancellationToken).ConfigureAwait(false);
            phases.Lap("state database");
        }
        catch (Exception exception)
        {
            pins.Dispose();
            await DisposeUnclaimedAsync(pooled).ConfigureAwait(false);
            _registry.ReleaseName(session);
            await _lifetime.PersistFinishedAsync(session, InitFailure(exception)).ConfigureAwait(false);
            throw;
        }

        // From here the sandbox is known by id and task id; it starts on its own, beyond the caller's cancellation (a
        // create that returned owns a sandbox the client can terminate). The engine's stop waits for it.
        _registry.Add(session);
        var start = StartAsync(session, containerSpec, pins, pooled, adjust, poolKey, phases);
        _starting.TryAdd(start, 0);
        _ = start.ContinueWith(t => _starting.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return session;
    }

    private async Task StartAsync(
        SandboxSession session, ContainerSpec containerSpec, Mounts.SubPathPins pins, IRunningContainer? pooled, Func<string, ContainerSpec, ContainerSpec>? adjust,
        WarmPoolKey? poolKey, StartPhases phases)
    {
        await Task.Yield();
        IRunningContainer container;
        try
        {
            try
            {
                if (pooled is not null)
                {
                    container = pooled;
                    pooled = null;
                    await ClaimAsync(container, containerSpec, CancellationToken.None).ConfigureAwait(false);
                    phases.Lap("warm pool claim");
                }
                else
                {
                    container = await _runtime.StartAsync(adjust is null ? containerSpec : adjust(session.Id, containerSpec), CancellationToken.None)
                        .ConfigureAwait(false);
                    phases.Lap("container");
                    if (poolKey is { } shape)
                    {
                        Pool.Learn(shape, containerSpec);
                    }
                }
            }
            finally
            {
                pins.Dispose();
            }

            session.Container = container;
            await OpenTunnelsAsync(session, container).ConfigureAwait(false);
            phases.Lap("tunnels");
        }
        catch (Exception exception)
        {
            session.Container = null;
            await DisposeUnclaimedAsync(pooled).ConfigureAwait(false);
            var result = InitFailure(exception);
            LogStartFailed(exception, session.Id);
            session.EndStart(exception);
            await _lifetime.FinishAsync(session, result).ConfigureAwait(false);
            return;
        }

        _ = _lifetime.WatchAsync(session, container);
        session.EndStart();
        LogCreated(session.Id, session.Spec.ImageId, _runtime.Name, phases);
    }

    // A rule's message stands alone; the core's own failures (runtime, image) say what could not start.
    private SandboxResult InitFailure(Exception exception) =>
        new(SandboxOutcome.InitFailure, 1, exception.GetType() == typeof(EngineException) ? exception.Message : "The sandbox could not start: " + exception.Message,
            _clock.GetUtcNow());

    private static async Task ClaimAsync(IRunningContainer container, ContainerSpec containerSpec, CancellationToken cancellationToken)
    {
        try
        {
            await container.ClaimAsync(new ContainerClaim(containerSpec.Env, containerSpec.Workdir, containerSpec.Entrypoint), cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            await container.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task DisposeUnclaimedAsync(IRunningContainer? pooled)
    {
        if (pooled is not null)
        {
            await pooled.DisposeAsync().ConfigureAwait(false);
        }
    }

    // hostPorts: the host port of each container port (a sandbox adopted from the engine before keeps its tunnels' addresses).
    private async Task OpenTunnelsAsync(SandboxSession session, IRunningContainer container, IReadOnlyDictionary<int, int>? hostPorts = null)
    {
        if (session.Spec.Ports.Count == 0)
        {
            return;
        }

        try
        {
            session.Tunnels = await Tunnels.SandboxTunnels.OpenAsync(session.Spec.Ports, container, () => session.Touch(_clock.GetUtcNow()), _logger, session.Spec.InboundCidrs,
                hostPorts).ConfigureAwait(false);
        }
        catch
        {
            await container.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Finds a sandbox by id (running or finished during this engine's life).</summary>
    public SandboxSession Get(string sandboxId) => _registry.Get(sandboxId);

    /// <summary>Finds a sandbox by id (as <see cref="Get"/>) once its start ended: it then runs, or has its result.</summary>
    public Task<SandboxSession> GetStartedAsync(string sandboxId, CancellationToken cancellationToken) =>
        _registry.Get(sandboxId).StartedAsync(cancellationToken);

    /// <summary>Finds a sandbox by its task's id once its start ended: it then runs, or has its result.</summary>
    public Task<SandboxSession> GetStartedByTaskIdAsync(string taskId, CancellationToken cancellationToken) =>
        _registry.GetByTaskId(taskId).StartedAsync(cancellationToken);

    /// <summary>Finds a sandbox of this engine's life by id, or null.</summary>
    public SandboxSession? TryGet(string sandboxId) => _registry.TryGet(sandboxId);

    /// <summary>Waits up to <paramref name="timeout"/> for the sandbox to end; returns null if it still runs.</summary>
    public async Task<SandboxResult?> WaitAsync(string sandboxId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_registry.TryGet(sandboxId) is not { } session)
        {
            return await Catalog.GetStoredResultAsync(sandboxId, cancellationToken).ConfigureAwait(false);
        }

        if (timeout > TimeSpan.Zero && !session.Completion.IsCompleted)
        {
            try
            {
                await session.Completion.WaitAsync(timeout, _clock, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Long-poll budget spent: the caller polls again.
            }
        }

        return session.Result;
    }

    /// <summary>Stops a sandbox (TERMINATED); a finished sandbox is left as it is.</summary>
    public async Task<SandboxResult> TerminateAsync(string sandboxId, CancellationToken cancellationToken)
    {
        if (_registry.TryGet(sandboxId) is not { } session)
        {
            return await Catalog.GetStoredResultAsync(sandboxId, cancellationToken).ConfigureAwait(false) ?? throw NotFound(sandboxId);
        }

        await _lifetime.FinishAsync(session, new SandboxResult(SandboxOutcome.Terminated, 137, "Terminated by request.", _clock.GetUtcNow())).ConfigureAwait(false);
        return await session.Completion.ConfigureAwait(false);
    }

    /// <summary>Starts a process in a running sandbox; a repeated exec id returns the first process (client retries).</summary>
    public Task<SupervisedProcess> ExecAsync(SandboxSession session, string execId, ProcessSpec spec, CancellationToken cancellationToken) =>
        ExecAsync(session, null, execId, spec, cancellationToken);

    /// <summary>Starts a process in <paramref name="target"/> (a sidecar of the running sandbox; null = its main container).</summary>
    internal async Task<SupervisedProcess> ExecAsync(SandboxSession session, IRunningContainer? target, string execId, ProcessSpec spec, CancellationToken cancellationToken)
    {
        if (session.Execs.TryGet(execId, out var existing))
        {
            return existing;
        }

        var main = session.RequireRunning();
        var container = target ?? main;
        ExecRules.Validate(spec);
        session.Touch(_clock.GetUtcNow());
        var process = await container.ExecAsync(spec, cancellationToken).ConfigureAwait(false);
        if (!session.Execs.TryAdd(execId, process, () => Touch(session)))
        {
            // Lost a race with a retry of the same exec: keep the first, stop this one.
            await process.KillAsync(CancellationToken.None).ConfigureAwait(false);
            await process.DisposeAsync().ConfigureAwait(false);
            return session.Execs.Get(session.Id, execId);
        }

        LogExecStarted(session.Id, execId, spec.Args[0]);
        if (session.Spec.Verbose)
        {
            VerboseLog.Record(session, execId, spec, process, _clock);
        }

        return process;
    }

    /// <summary>Writes to an exec's stdin at <paramref name="offset"/> (activity for the idle timeout).</summary>
    public async Task WriteExecStdinAsync(
        SandboxSession session, SupervisedProcess process, long offset, ReadOnlyMemory<byte> data, bool eof, CancellationToken cancellationToken)
    {
        Touch(session);
        await process.WriteStdinAsync(offset, data, eof, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes to the entrypoint's stdin at <paramref name="offset"/> (activity for the idle timeout).</summary>
    /// <exception cref="EngineException">The sandbox has no entrypoint (FAILED_PRECONDITION).</exception>
    public async Task WriteEntrypointStdinAsync(SandboxSession session, long offset, ReadOnlyMemory<byte> data, bool eof, CancellationToken cancellationToken)
    {
        var entrypoint = session.Container?.Entrypoint
            ?? throw EngineException.Precondition($"Sandbox {session.Id} was created without a command, so it has no entrypoint stdin.");
        Touch(session);
        await entrypoint.WriteStdinAsync(offset, data, eof, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The creation time of a new sandbox: now, in whole milliseconds, and later than any before it, so a listing page's
    /// cursor (strictly before a creation time) never skips a sandbox created in the same millisecond.
    /// </summary>
    private DateTimeOffset NextCreationTime()
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        while (true)
        {
            var last = Interlocked.Read(ref _lastCreatedMs);
            var next = Math.Max(now, last + 1);
            if (Interlocked.CompareExchange(ref _lastCreatedMs, next, last) == last)
            {
                return DateTimeOffset.FromUnixTimeMilliseconds(next);
            }
        }
    }

    /// <summary>Applies the lifetime rules now rather than at the next sweep (tests use it to know a sweep happened).</summary>
    internal Task SweepAsync() => _lifetime.SweepOnceAsync(_clock.GetUtcNow());

    /// <summary>Applies the lifetime rules once as they will stand <paramref name="ahead"/> from now (tests of the grace rules).</summary>
    internal Task SweepAsync(TimeSpan ahead) => _lifetime.SweepOnceAsync(_clock.GetUtcNow() + ahead);

    private DateTimeOffset Touch(SandboxSession session)
    {
        var now = _clock.GetUtcNow();
        session.Touch(now);
        return now;
    }

    private static EngineException NotFound(string sandboxId) => EngineException.NotFound($"Sandbox '{sandboxId}' not found");

    /// <summary>
    /// Terminates every running sandbox (but those handed to the next engine, see <see cref="HandoverGrace"/>) and every
    /// pooled one, and stops the lifetime sweep.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Starts under way end first (a start never throws), so every sandbox below has its container or its result.
        await Task.WhenAll(_starting.Keys).ConfigureAwait(false);
        await Pool.DisposeAsync().ConfigureAwait(false);
        await _lifetime.DisposeAsync().ConfigureAwait(false);
        var sessions = _registry.All.ToList();
        // With --keep-sandboxes, those that can outlive the engine are handed to the next one; the rest end here.
        var handedOver = await Task.WhenAll(sessions.Select(HandOverAsync)).ConfigureAwait(false);
        var ending = sessions.Where((_, i) => !handedOver[i]).ToList();
        await Task.WhenAll(ending.Select(s =>
            _lifetime.FinishAsync(s, new SandboxResult(SandboxOutcome.Terminated, 137, "The engine stopped.", _clock.GetUtcNow())))).ConfigureAwait(false);
        foreach (var session in sessions)
        {
            _registry.Remove(session);
        }

        foreach (var session in ending)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId} created from image {ImageId} ({Runtime}; {Phases})")]
    private partial void LogCreated(string sandboxId, string imageId, string runtime, StartPhases phases);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox {SandboxId} could not start")]
    private partial void LogStartFailed(Exception exception, string sandboxId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sandbox {SandboxId}: exec {ExecId} started ({Program})")]
    private partial void LogExecStarted(string sandboxId, string execId, string program);
}
