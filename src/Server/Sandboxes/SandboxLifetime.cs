using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.State;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// The lifetime rules, driven by a <see cref="TimeProvider"/>: a sandbox ends at its timeout, or after its idle
/// timeout with nothing active in it, or when its container ends; it is then recorded, its name freed and its
/// container torn down. Finished execs and sandboxes are freed after <see cref="Retention"/>, and the
/// finished execs of one sandbox never hold more than <see cref="FinishedExecOutputBound"/>.
/// </summary>
internal sealed partial class SandboxLifetime : IAsyncDisposable
{
    /// <summary>How often the rules are checked.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>How long the output of a finished exec or sandbox stays readable.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    /// <summary>
    /// What the finished execs of one sandbox may keep (memory buffers and spill files), so a loop of execs whose output
    /// nobody reads cannot pile up journals for <see cref="Retention"/>: past it, output already read to its end is freed
    /// first, then the oldest unread output once past its <see cref="FinishedExecGrace"/> (at once while memory alone is
    /// past the bound). Exit statuses stay.
    /// </summary>
    public const long FinishedExecOutputBound = 128L * 1024 * 1024;

    /// <summary>
    /// How long a finished exec's spilled output is safe from <see cref="FinishedExecOutputBound"/>: a client that started
    /// many execs at once attaches its readers after some have finished, and must find their output whole.
    /// </summary>
    public static readonly TimeSpan FinishedExecGrace = TimeSpan.FromSeconds(60);

    private readonly SandboxRegistry _registry;
    private readonly SandboxStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _sweeping = new(1, 1);
    private readonly Task _sweeper;

    /// <summary>Starts sweeping the registry's sandboxes.</summary>
    public SandboxLifetime(SandboxRegistry registry, SandboxStore store, TimeProvider clock, ILogger logger)
    {
        _registry = registry;
        _store = store;
        _clock = clock;
        _logger = logger;
        _sweeper = SweepAsync(_stopping.Token);
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(SweepInterval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await SweepOnceAsync(_clock.GetUtcNow()).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Engine stopping.
        }
    }

    /// <summary>Applies the rules once, as of <paramref name="now"/>.</summary>
    internal async Task SweepOnceAsync(DateTimeOffset now)
    {
        // One sweep at a time: a sweep asked for (tests) runs after the timer's, never beside it.
        await _sweeping.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var session in _registry.All)
            {
                try
                {
                    await EvictStaleAsync(session, now).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // One sandbox's bookkeeping failing must not stop the rules for every sandbox (the sweep's loop
                    // would end): logged, tried again at the next sweep.
                    LogSweepFailed(exception, session.Id);
                }

                if (session.Result is null && Expired(session, now) is { } result)
                {
                    _ = FinishAsync(session, result);
                }
            }
        }
        finally
        {
            _sweeping.Release();
        }
    }

    /// <summary>The result a running sandbox ends with now by the lifetime rules, or null while it may keep running.</summary>
    internal static SandboxResult? Expired(SandboxSession session, DateTimeOffset now)
    {
        if (now - session.CreatedAt >= session.Spec.Timeout)
        {
            return new SandboxResult(SandboxOutcome.Timeout, 124, $"The sandbox reached its timeout of {session.Spec.Timeout.TotalSeconds:0} s.", now);
        }

        return session.Spec.IdleTimeout is { } idle && !session.IsActive && now - session.LastActivity >= idle
            ? new SandboxResult(SandboxOutcome.IdleTimeout, 124, $"The sandbox was idle for {idle.TotalSeconds:0} s.", now)
            : null;
    }

    /// <summary>
    /// Frees what finished long ago: execs done for <see cref="Retention"/> (their output can no longer be read), and
    /// whole sandboxes finished for that long (they are then known only from the database).
    /// </summary>
    private async Task EvictStaleAsync(SandboxSession session, DateTimeOffset now)
    {
        await session.Execs.EvictFinishedBeforeAsync(now - Retention).ConfigureAwait(false);
        await session.Execs.FreeOutputOverBoundAsync(FinishedExecOutputBound, now - FinishedExecGrace).ConfigureAwait(false);
        if (session.Result is { } result && now - result.FinishedAt >= Retention && _registry.Remove(session))
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal async Task WatchAsync(SandboxSession session, IRunningContainer container)
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
        if (exit.Cause is { } cause)
        {
            LogEndedAtLimit(session.Id, cause);
        }

        await FinishAsync(session, new SandboxResult(outcome, code, exit.Cause, _clock.GetUtcNow())).ConfigureAwait(false);
    }

    internal async Task FinishAsync(SandboxSession session, SandboxResult result)
    {
        if (!session.TryClaimFinish())
        {
            return;
        }

        // Durable before anyone is told: a client that saw the result must see it again after an engine crash.
        await PersistFinishedAsync(session, result).ConfigureAwait(false);
        _registry.ReleaseName(session);
        session.PublishResult(result);
        LogFinished(session.Id, result.Outcome, result.ExitCode);
        try
        {
            // A sandbox ended while it still starts (terminated, timed out, the engine stopping) is torn down once its
            // container runs: the start is never cut short (and never throws).
            await session.Started.ConfigureAwait(false);
            // Tear the container down now; its output journals stay readable until the session is evicted.
            // Listeners stop at once; open tunnel connections end with the container.
            var closingTunnels = session.Tunnels?.DisposeAsync().AsTask() ?? Task.CompletedTask;
            await session.Sidecars.TerminateAllAsync().ConfigureAwait(false);
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

    internal async Task PersistFinishedAsync(SandboxSession session, SandboxResult result)
    {
        try
        {
            await _store.SetResultAsync(session.Id, result, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The engine is shutting down; the restart sweep reports this sandbox as terminated.
        }
        catch (Exception exception)
        {
            // Waiters must still learn the result; the restart sweep reports the sandbox as terminated.
            LogPersistFailed(exception, session.Id);
        }
    }

    /// <summary>Stops the sweep.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sweeper.ConfigureAwait(false);
        _stopping.Dispose();
        _sweeping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sandbox {SandboxId}: freeing finished execs' output failed; tried again at the next sweep")]
    private partial void LogSweepFailed(Exception exception, string sandboxId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox {SandboxId} ended at a limit: {Cause}")]
    private partial void LogEndedAtLimit(string sandboxId, string cause);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId} finished: {Outcome}, exit code {ExitCode}")]
    private partial void LogFinished(string sandboxId, SandboxOutcome outcome, int exitCode);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sandbox {SandboxId}: recording its result in the state database failed")]
    private partial void LogPersistFailed(Exception exception, string sandboxId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox {SandboxId}: tearing down the container failed")]
    private partial void LogTeardownFailed(Exception exception, string sandboxId);
}
