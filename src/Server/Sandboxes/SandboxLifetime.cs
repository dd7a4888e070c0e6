namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// The lifetime rules, driven by a <see cref="TimeProvider"/>: a sandbox ends at its timeout, or after its idle
/// timeout with nothing active in it; finished execs and sandboxes are freed after <see cref="Retention"/>, and the
/// finished execs of one sandbox never hold more than <see cref="FinishedExecOutputBound"/>.
/// </summary>
internal sealed class SandboxLifetime : IAsyncDisposable
{
    /// <summary>How often the rules are checked.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>How long the output of a finished exec or sandbox stays readable.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    /// <summary>
    /// What the finished execs of one sandbox may keep (memory buffers and spill files), so a loop of execs whose output
    /// nobody reads cannot pile up journals for <see cref="Retention"/>: past it, the oldest finished exec is freed first.
    /// </summary>
    public const long FinishedExecOutputBound = 128L * 1024 * 1024;

    private readonly SandboxRegistry _registry;
    private readonly TimeProvider _clock;
    private readonly Func<SandboxSession, SandboxResult, Task> _finish;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _sweeping = new(1, 1);
    private readonly Task _sweeper;

    /// <summary>Starts sweeping the registry's sandboxes; <paramref name="finish"/> ends one with a result.</summary>
    public SandboxLifetime(SandboxRegistry registry, TimeProvider clock, Func<SandboxSession, SandboxResult, Task> finish)
    {
        _registry = registry;
        _clock = clock;
        _finish = finish;
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
                await EvictStaleAsync(session, now).ConfigureAwait(false);
                if (session.Result is null && Expired(session, now) is { } result)
                {
                    _ = _finish(session, result);
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
        await session.Execs.EvictOverBoundAsync(FinishedExecOutputBound).ConfigureAwait(false);
        if (session.Result is { } result && now - result.FinishedAt >= Retention && _registry.Remove(session))
        {
            await session.DisposeAsync().ConfigureAwait(false);
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
}
