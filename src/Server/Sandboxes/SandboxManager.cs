using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Volumes;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.State;
using TypedSandbox.Server.Tunnels;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// The sandbox lifecycle: create (name rules, image, volumes, container), exec, wait, terminate, lifetime and idle
/// timeouts, names, tags and listing. Knows nothing of gRPC.
/// </summary>
public sealed partial class SandboxManager : IAsyncDisposable
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>How long the output of a finished exec or sandbox stays readable.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    /// <summary>
    /// What the finished execs of one sandbox may keep (memory buffers and spill files), so a loop of execs whose output
    /// nobody reads cannot pile up journals for <see cref="Retention"/>: past it, the oldest finished exec is freed first.
    /// </summary>
    public const long FinishedExecOutputBound = 128L * 1024 * 1024;
    private readonly ConcurrentDictionary<string, SandboxSession> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SandboxSession> _byTaskId = new(StringComparer.Ordinal);
    private readonly Lock _namesGate = new();
    private readonly Dictionary<(string AppId, string Name), SandboxSession> _byName = [];
    private readonly IContainerRuntime _runtime;
    private readonly ImageBuilds _images;
    private readonly VolumeStore _volumes;
    private readonly StateDatabase _database;
    private readonly TimeProvider _clock;
    private readonly ILogger<SandboxManager> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _sweeper;
    private long _lastCreatedMs;

    /// <summary>Creates the manager and starts its timeout sweeper.</summary>
    public SandboxManager(
        IContainerRuntime runtime, ImageBuilds images, VolumeStore volumes, StateDatabase database, TimeProvider clock, ILogger<SandboxManager> logger)
    {
        _runtime = runtime;
        _images = images;
        _volumes = volumes;
        _database = database;
        _clock = clock;
        _logger = logger;
        _sweeper = SweepAsync(_stopping.Token);
    }

    /// <summary>
    /// Marks sandboxes that were running when the engine last stopped as terminated (their containers died with the
    /// engine's cleanup, or are removed by the runtime's startup sweep); returns how many there were.
    /// </summary>
    public async Task<int> ReportOrphansAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        return await _database.ExecuteAsync(
            """
            UPDATE sandboxes SET finished_at = $at, result_status = $status, result_exit_code = 137,
              result_message = 'The engine restarted while the sandbox was running; it was terminated.'
            WHERE finished_at IS NULL
            """,
            new Dictionary<string, object?> { ["$at"] = Seconds(now), ["$status"] = (int)SandboxOutcome.Terminated },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates and starts a sandbox.</summary>
    public async Task<SandboxSession> CreateAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        SandboxSpecRules.Validate(spec);
        var random = ObjectIds.Random(22);
        var id = spec.V2 ? ObjectIds.NewV2SandboxId() : "sb-" + random;
        var session = new SandboxSession(id, "ta-" + random, spec, NextCreationTime());
        ReserveName(session);
        var phases = new Isolation.StartPhases();
        try
        {
            var image = await _images.GetReadyAsync(spec.ImageId, cancellationToken).ConfigureAwait(false);
            phases.Lap("image");
            var mounts = new List<BindMount>();
            foreach (var volume in spec.Volumes)
            {
                SandboxSpecRules.RequireSafeDestination(image, volume.MountPath);
                var directory = await _volumes.GetDirectoryAsync(volume.VolumeId, cancellationToken).ConfigureAwait(false);
                mounts.Add(new BindMount(directory, volume.MountPath, volume.ReadOnly));
            }

            phases.Lap("volumes");
            await PersistCreatedAsync(session, cancellationToken).ConfigureAwait(false);
            phases.Lap("state database");
            var container = await _runtime.StartAsync(ToContainerSpec(session, image, mounts), cancellationToken).ConfigureAwait(false);
            session.Container = container;
            phases.Lap("container");
            await OpenTunnelsAsync(session, container).ConfigureAwait(false);
            phases.Lap("tunnels");
            _byId[session.Id] = session;
            _byTaskId[session.TaskId] = session;
            _ = WatchAsync(session, container);
            LogCreated(session.Id, spec.ImageId, _runtime.Name, phases);
            return session;
        }
        catch (Exception exception)
        {
            ReleaseName(session);
            var message = exception is EngineException ? exception.Message : "The sandbox could not start: " + exception.Message;
            await PersistFinishedAsync(session, new SandboxResult(SandboxOutcome.InitFailure, 1, message, _clock.GetUtcNow()), CancellationToken.None)
                .ConfigureAwait(false);
            throw;
        }
    }

    private async Task OpenTunnelsAsync(SandboxSession session, ContainerHandle container)
    {
        if (session.Spec.Ports.Count == 0)
        {
            return;
        }

        try
        {
            session.Tunnels = await SandboxTunnels.OpenAsync(session.Spec.Ports, container, () => session.Touch(_clock.GetUtcNow()), _logger)
                .ConfigureAwait(false);
        }
        catch
        {
            await container.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Finds a sandbox by id (running or finished during this engine's life).</summary>
    public SandboxSession Get(string sandboxId) =>
        _byId.TryGetValue(sandboxId, out var session)
            ? session
            : throw EngineException.NotFound($"Sandbox '{sandboxId}' not found");

    /// <summary>Finds a sandbox of this engine's life by id, or null.</summary>
    public SandboxSession? TryGet(string sandboxId) => _byId.GetValueOrDefault(sandboxId);

    /// <summary>The app a sandbox belongs to (also for one finished before a restart).</summary>
    public async Task<string> GetAppIdAsync(string sandboxId, CancellationToken cancellationToken) =>
        _byId.TryGetValue(sandboxId, out var session)
            ? session.Spec.AppId
            : await _database.ScalarAsync<string>(
                "SELECT app_id FROM sandboxes WHERE id = $id", new Dictionary<string, object?> { ["$id"] = sandboxId }, cancellationToken).ConfigureAwait(false)
              ?? throw EngineException.NotFound($"Sandbox '{sandboxId}' not found");

    /// <summary>Finds a sandbox by id, also among those finished before the engine restarted; returns its result.</summary>
    public async Task<SandboxResult?> GetStoredResultAsync(string sandboxId, CancellationToken cancellationToken)
    {
        var rows = await _database.QueryAsync(
            "SELECT result_status, result_exit_code, result_message, finished_at FROM sandboxes WHERE id = $id",
            new Dictionary<string, object?> { ["$id"] = sandboxId },
            r => r.IsDBNull(0) ? null : new SandboxResult((SandboxOutcome)r.GetInt32(0), r.GetInt32(1), r.IsDBNull(2) ? null : r.GetString(2), FromSeconds(r.GetDouble(3))),
            cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? throw EngineException.NotFound($"Sandbox '{sandboxId}' not found") : rows[0];
    }

    /// <summary>Finds a sandbox of this engine's life by the id of its task, or null.</summary>
    public SandboxSession? TryGetByTaskId(string taskId) => _byTaskId.GetValueOrDefault(taskId);

    /// <summary>Finds a sandbox by the id of its task.</summary>
    public SandboxSession GetByTaskId(string taskId) =>
        _byTaskId.TryGetValue(taskId, out var session)
            ? session
            : throw EngineException.NotFound($"Task '{taskId}' not found");

    /// <summary>Finds a running sandbox by app and name.</summary>
    public SandboxSession? FindRunningByName(string appId, string name)
    {
        lock (_namesGate)
        {
            return _byName.TryGetValue((appId, name), out var session) ? session : null;
        }
    }

    /// <summary>Finds the newest sandbox with this name in the app, finished or not.</summary>
    public async Task<string?> FindNewestByNameAsync(string appId, string name, CancellationToken cancellationToken) =>
        await _database.ScalarAsync<string>(
            "SELECT id FROM sandboxes WHERE app_id = $app AND name = $name ORDER BY created_at DESC LIMIT 1",
            new Dictionary<string, object?> { ["$app"] = appId, ["$name"] = name }, cancellationToken).ConfigureAwait(false);

    /// <summary>Waits up to <paramref name="timeout"/> for the sandbox to end; returns null if it still runs.</summary>
    public async Task<SandboxResult?> WaitAsync(string sandboxId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_byId.TryGetValue(sandboxId, out var session))
        {
            return await GetStoredResultAsync(sandboxId, cancellationToken).ConfigureAwait(false);
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
        if (!_byId.TryGetValue(sandboxId, out var session))
        {
            return await GetStoredResultAsync(sandboxId, cancellationToken).ConfigureAwait(false)
                ?? throw EngineException.NotFound($"Sandbox '{sandboxId}' not found");
        }

        await FinishAsync(session, new SandboxResult(SandboxOutcome.Terminated, 137, "Terminated by request.", _clock.GetUtcNow())).ConfigureAwait(false);
        return await session.Completion.ConfigureAwait(false);
    }

    /// <summary>Starts a process in a running sandbox; a repeated exec id returns the first process (client retries).</summary>
    public async Task<SupervisedProcess> ExecAsync(SandboxSession session, string execId, ProcessSpec spec, CancellationToken cancellationToken)
    {
        if (session.Execs.TryGetValue(execId, out var existing))
        {
            return existing;
        }

        var container = RequireRunning(session);
        if (spec.Args.Count == 0 || string.IsNullOrEmpty(spec.Args[0]))
        {
            throw EngineException.Invalid("The command to exec is empty: give at least the program to run.");
        }

        if (spec.Workdir is not null)
        {
            EngineRules.Require(EngineRules.CheckWorkdir(spec.Workdir, "Exec workdir"));
        }

        foreach (var key in spec.Env.Keys)
        {
            EngineRules.Require(EngineRules.CheckEnvironmentKey(key));
        }

        session.Touch(_clock.GetUtcNow());
        var process = await container.ExecAsync(spec, cancellationToken).ConfigureAwait(false);
        if (!session.Execs.TryAdd(execId, process))
        {
            // Lost a race with a retry of the same exec: keep the first, stop this one.
            await process.KillAsync(CancellationToken.None).ConfigureAwait(false);
            await process.DisposeAsync().ConfigureAwait(false);
            return session.Execs[execId];
        }

        if (spec.Args.Count > 0)
        {
            LogExecStarted(session.Id, execId, spec.Args[0]);
        }

        if (session.Spec.Verbose)
        {
            VerboseLog.Record(session, execId, spec, process, _clock);
        }

        _ = process.Completion.ContinueWith(
            _ =>
            {
                var now = _clock.GetUtcNow();
                session.Touch(now);
                session.ExecsFinishedAt[execId] = now;
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return process;
    }

    /// <summary>Finds an exec of a sandbox by id.</summary>
    public static SupervisedProcess GetExec(SandboxSession session, string execId) =>
        session.Execs.TryGetValue(execId, out var process)
            ? process
            : throw EngineException.NotFound($"Exec '{execId}' not found in sandbox '{session.Id}'");

    /// <summary>Replaces a sandbox's tags.</summary>
    public async Task SetTagsAsync(string sandboxId, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        SandboxSpecRules.ValidateTags(tags);
        var session = Get(sandboxId);
        session.Tags = tags;
        await _database.ExecuteAsync(
            "UPDATE sandboxes SET tags = $tags WHERE id = $id",
            new Dictionary<string, object?> { ["$id"] = sandboxId, ["$tags"] = JsonSerializer.Serialize(tags) },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A sandbox's tags (also of one finished before a restart).</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetTagsAsync(string sandboxId, CancellationToken cancellationToken)
    {
        if (_byId.TryGetValue(sandboxId, out var session))
        {
            return session.Tags;
        }

        var json = await _database.ScalarAsync<string>(
            "SELECT tags FROM sandboxes WHERE id = $id", new Dictionary<string, object?> { ["$id"] = sandboxId }, cancellationToken).ConfigureAwait(false);
        return json is null
            ? throw EngineException.NotFound($"Sandbox '{sandboxId}' not found")
            : JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
    }

    /// <summary>One page of sandboxes, newest first, created strictly before <paramref name="before"/>.</summary>
    public async Task<IReadOnlyList<SandboxListing>> ListAsync(
        string? appId, IReadOnlyDictionary<string, string> tags, DateTimeOffset? before, bool includeFinished, int pageSize, CancellationToken cancellationToken)
    {
        SandboxSpecRules.ValidateTags(tags);
        var rows = await _database.QueryAsync(
            """
            SELECT id, app_id, name, created_at, tags, image_id, finished_at FROM sandboxes
            WHERE ($app IS NULL OR app_id = $app) AND ($before IS NULL OR created_at < $before)
              AND ($finished = 1 OR finished_at IS NULL)
            ORDER BY created_at DESC
            """,
            new Dictionary<string, object?>
            {
                ["$app"] = string.IsNullOrEmpty(appId) ? null : appId,
                ["$before"] = before is { } b ? Seconds(b) : null,
                ["$finished"] = includeFinished ? 1 : 0,
            },
            r => new SandboxListing(
                r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetDouble(3),
                JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(4)) ?? [], r.GetString(5), !r.IsDBNull(6)),
            cancellationToken).ConfigureAwait(false);
        return rows
            .Select(row => _byId.TryGetValue(row.Id, out var live) ? row with { Tags = live.Tags } : row)
            .Where(row => tags.All(t => row.Tags.TryGetValue(t.Key, out var v) && v == t.Value))
            .Take(pageSize)
            .ToList();
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

    private static ContainerHandle RequireRunning(SandboxSession session) =>
        session.Result is null && session.Container is { } container
            ? container
            : throw EngineException.Precondition($"Sandbox '{session.Id}' has already finished.");

    private void ReserveName(SandboxSession session)
    {
        if (session.Spec.Name is not { } name)
        {
            return;
        }

        lock (_namesGate)
        {
            if (!_byName.TryAdd((session.Spec.AppId, name), session))
            {
                throw new EngineException(EngineErrorKind.AlreadyExists, $"Sandbox with name '{name}' already exists in this app.");
            }
        }
    }

    private void ReleaseName(SandboxSession session)
    {
        if (session.Spec.Name is not { } name)
        {
            return;
        }

        lock (_namesGate)
        {
            if (_byName.TryGetValue((session.Spec.AppId, name), out var holder) && ReferenceEquals(holder, session))
            {
                _byName.Remove((session.Spec.AppId, name));
            }
        }
    }

    private static ContainerSpec ToContainerSpec(SandboxSession session, ImageRecord image, IReadOnlyList<BindMount> mounts)
    {
        var spec = session.Spec;
        var imageEnv = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in image.Config.Env)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                imageEnv[entry[..equals]] = entry[(equals + 1)..];
            }
        }

        var defaults = ResourceLimits.Default;
        return new ContainerSpec
        {
            Id = session.TaskId,
            LayerDirs = image.LayerDirs,
            ImageEnv = imageEnv,
            ImageWorkdir = image.Config.WorkingDir,
            Env = spec.Environment,
            Workdir = spec.Workdir,
            Entrypoint = spec.EntrypointArgs.Count == 0 ? null : new ProcessSpec(spec.EntrypointArgs),
            Limits = defaults with
            {
                MemoryBytes = spec.MemoryMb > 0 ? spec.MemoryMb * 1024L * 1024L : defaults.MemoryBytes,
                CpuMillicores = spec.MilliCpu > 0 ? (int)spec.MilliCpu : defaults.CpuMillicores,
                DiskBytes = spec.EphemeralDiskMb > 0 ? spec.EphemeralDiskMb * 1024L * 1024L : null,
            },
            Network = spec.Network,
            Mounts = mounts,
            Hostname = "sandbox",
        };
    }

    private async Task WatchAsync(SandboxSession session, ContainerHandle container)
    {
        ProcessExit exit;
        try
        {
            exit = await container.Exited.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            await FinishAsync(session, new SandboxResult(SandboxOutcome.Failure, 1, "The sandbox failed: " + exception.Message, _clock.GetUtcNow())).ConfigureAwait(false);
            return;
        }

        var code = exit.ExitCode ?? (exit.Signal is { } signal ? 128 + signal : 1);
        var outcome = code == 0 ? SandboxOutcome.Success : SandboxOutcome.Failure;
        await FinishAsync(session, new SandboxResult(outcome, code, null, _clock.GetUtcNow())).ConfigureAwait(false);
    }

    private async Task FinishAsync(SandboxSession session, SandboxResult result)
    {
        if (!session.TryClaimFinish())
        {
            return;
        }

        // Durable before anyone is told: a client that saw the result must see it again after an engine crash.
        try
        {
            await PersistFinishedAsync(session, result, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Waiters must still learn the result; the restart sweep reports the sandbox as terminated.
            LogPersistFailed(exception, session.Id);
        }

        ReleaseName(session);
        session.PublishResult(result);
        LogFinished(session.Id, result.Outcome, result.ExitCode);
        try
        {
            // Tear the container down now; its output journals stay readable until the session is evicted.
            // Listeners stop at once; open tunnel connections end with the container.
            var closingTunnels = session.Tunnels?.DisposeAsync().AsTask() ?? Task.CompletedTask;
            if (session.Container is { } container)
            {
                await container.TerminateAsync(CancellationToken.None).ConfigureAwait(false);
            }

            await closingTunnels.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            LogTeardownFailed(exception, session.Id);
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(SweepInterval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = _clock.GetUtcNow();
                foreach (var session in _byId.Values)
                {
                    await EvictStaleAsync(session, now).ConfigureAwait(false);
                    if (session.Result is not null)
                    {
                        continue;
                    }

                    if (now - session.CreatedAt >= session.Spec.Timeout)
                    {
                        _ = FinishAsync(session, new SandboxResult(SandboxOutcome.Timeout, 124, $"The sandbox reached its timeout of {session.Spec.Timeout.TotalSeconds:0} s.", now));
                    }
                    else if (session.Spec.IdleTimeout is { } idle && !session.IsActive && now - session.LastActivity >= idle)
                    {
                        _ = FinishAsync(session, new SandboxResult(SandboxOutcome.IdleTimeout, 124, $"The sandbox was idle for {idle.TotalSeconds:0} s.", now));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Engine stopping.
        }
    }

    /// <summary>
    /// Frees what finished long ago: execs done for <see cref="Retention"/> (their output can no longer be read), and
    /// whole sandboxes finished for that long (they are then known only from the database).
    /// </summary>
    private async Task EvictStaleAsync(SandboxSession session, DateTimeOffset now)
    {
        foreach (var (execId, finishedAt) in session.ExecsFinishedAt)
        {
            if (now - finishedAt >= Retention && session.Execs.TryRemove(execId, out var process))
            {
                session.ExecsFinishedAt.TryRemove(execId, out _);
                await process.DisposeAsync().ConfigureAwait(false);
            }
        }

        await EvictOverBoundAsync(session).ConfigureAwait(false);

        if (session.Result is { } result && now - result.FinishedAt >= Retention && _byId.TryRemove(session.Id, out _))
        {
            _byTaskId.TryRemove(session.TaskId, out _);
            await DisposeSessionAsync(session).ConfigureAwait(false);
        }
    }

    /// <summary>Frees the oldest finished execs while the finished ones hold more than <see cref="FinishedExecOutputBound"/>.</summary>
    private static async Task EvictOverBoundAsync(SandboxSession session)
    {
        var held = 0L;
        foreach (var execId in session.ExecsFinishedAt.Keys)
        {
            if (session.Execs.TryGetValue(execId, out var process))
            {
                held += process.Stdout.FootprintBytes + process.Stderr.FootprintBytes;
            }
        }

        if (held <= FinishedExecOutputBound)
        {
            return;
        }

        foreach (var (execId, _) in session.ExecsFinishedAt.OrderBy(e => e.Value).ToList())
        {
            if (held <= FinishedExecOutputBound)
            {
                break;
            }

            if (session.Execs.TryRemove(execId, out var process))
            {
                held -= process.Stdout.FootprintBytes + process.Stderr.FootprintBytes;
                session.ExecsFinishedAt.TryRemove(execId, out _);
                await process.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task DisposeSessionAsync(SandboxSession session)
    {
        foreach (var process in session.Execs.Values)
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }

        session.Execs.Clear();
        if (session.Container is { } container)
        {
            await container.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Task<int> PersistCreatedAsync(SandboxSession session, CancellationToken cancellationToken) =>
        _database.ExecuteAsync(
            """
            INSERT INTO sandboxes (id, task_id, app_id, name, created_at, image_id, tags, definition)
            VALUES ($id, $task, $app, $name, $at, $image, $tags, $definition)
            """,
            new Dictionary<string, object?>
            {
                ["$id"] = session.Id, ["$task"] = session.TaskId, ["$app"] = session.Spec.AppId, ["$name"] = session.Spec.Name,
                ["$at"] = Seconds(session.CreatedAt), ["$image"] = session.Spec.ImageId, ["$tags"] = JsonSerializer.Serialize(session.Spec.Tags),
                // The definition is kept for inspection; secret values are not part of it.
                ["$definition"] = JsonSerializer.Serialize(new { session.Spec.EntrypointArgs, session.Spec.Timeout, session.Spec.Workdir, Network = session.Spec.Network.Mode.ToString() }),
            },
            cancellationToken);

    private async Task PersistFinishedAsync(SandboxSession session, SandboxResult result, CancellationToken cancellationToken)
    {
        try
        {
            await _database.ExecuteAsync(
                """
                UPDATE sandboxes SET finished_at = $at, result_status = $status, result_exit_code = $code, result_message = $message
                WHERE id = $id
                """,
                new Dictionary<string, object?>
                {
                    ["$id"] = session.Id, ["$at"] = Seconds(result.FinishedAt), ["$status"] = (int)result.Outcome,
                    ["$code"] = result.ExitCode, ["$message"] = result.Message,
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The engine is shutting down; the restart sweep reports this sandbox as terminated.
        }
    }

    private static double Seconds(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / 1000.0;

    private static DateTimeOffset FromSeconds(double seconds) => DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));

    /// <summary>Terminates every running sandbox and stops the sweeper.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sweeper.ConfigureAwait(false);
        await Task.WhenAll(_byId.Values.Select(s =>
            FinishAsync(s, new SandboxResult(SandboxOutcome.Terminated, 137, "The engine stopped.", _clock.GetUtcNow())))).ConfigureAwait(false);
        foreach (var session in _byId.Values)
        {
            await DisposeSessionAsync(session).ConfigureAwait(false);
        }

        _byId.Clear();
        _byTaskId.Clear();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId} created from image {ImageId} ({Runtime}; {Phases})")]
    private partial void LogCreated(string sandboxId, string imageId, string runtime, Isolation.StartPhases phases);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId} finished: {Outcome}, exit code {ExitCode}")]
    private partial void LogFinished(string sandboxId, SandboxOutcome outcome, int exitCode);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sandbox {SandboxId}: exec {ExecId} started ({Program})")]
    private partial void LogExecStarted(string sandboxId, string execId, string program);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sandbox {SandboxId}: recording its result in the state database failed")]
    private partial void LogPersistFailed(Exception exception, string sandboxId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox {SandboxId}: tearing down the container failed")]
    private partial void LogTeardownFailed(Exception exception, string sandboxId);
}

/// <summary>One row of a sandbox listing.</summary>
public sealed record SandboxListing(
    string Id, string AppId, string? Name, double CreatedAt, IReadOnlyDictionary<string, string> Tags, string ImageId, bool Finished);
