using System.Runtime.CompilerServices;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// A readiness probe (Modal's <c>Probe</c>): the sandbox is ready once a TCP connection to <see cref="TcpPort"/> on its
/// own loopback opens, or once <see cref="ExecArgv"/> exits 0; tried every <see cref="Interval"/>.
/// </summary>
internal sealed record SandboxProbe(int? TcpPort, IReadOnlyList<string>? ExecArgv, TimeSpan Interval)
{
    /// <summary>The interval when the request names none (the SDKs' default).</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest one exec attempt may run before it counts as a failure.</summary>
    public static readonly TimeSpan ExecAttemptTimeout = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Runs readiness probes for <c>waitUntilReady</c>: inside the sandbox through the agent (a connection or an exec), so
/// they work with blocked networking and under runsc. The first success is remembered as the sandbox's ready time.
/// </summary>
internal sealed class SandboxReadiness(TimeProvider clock)
{
    private readonly ConditionalWeakTable<SandboxSession, StrongBox<DateTimeOffset>> _readyAt = [];

    /// <summary>
    /// Waits until the sandbox's probe succeeds and returns when it first did; a sandbox without a probe is ready once
    /// it runs.
    /// </summary>
    /// <exception cref="TimeoutException">The probe did not succeed within <paramref name="timeout"/>.</exception>
    /// <exception cref="Engine.EngineException">The sandbox finished (FailedPrecondition).</exception>
    public async Task<DateTimeOffset> WaitAsync(SandboxSession session, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var container = session.RequireRunning();
        if (session.Spec.ReadinessProbe is not { } probe)
        {
            return session.CreatedAt;
        }

        if (_readyAt.TryGetValue(session, out var known))
        {
            return known.Value;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(timeout);
        try
        {
            while (!await TryOnceAsync(container, probe, budget.Token).ConfigureAwait(false))
            {
                await Task.Delay(probe.Interval, clock, budget.Token).ConfigureAwait(false);
                container = session.RequireRunning();
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Sandbox {session.Id} did not pass its readiness probe within {timeout.TotalSeconds:0.###} s.");
        }

        return _readyAt.GetValue(session, _ => new StrongBox<DateTimeOffset>(clock.GetUtcNow())).Value;
    }

    private static async Task<bool> TryOnceAsync(IRunningContainer container, SandboxProbe probe, CancellationToken ct)
    {
        if (probe.TcpPort is { } port)
        {
            try
            {
                var connection = await container.ConnectAsync(port, ct).ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
                return true;
            }
            catch (SandboxConnectException)
            {
                return false;
            }
        }

        SupervisedProcess process;
        try
        {
            process = await container.ExecAsync(
                new ProcessSpec(probe.ExecArgv ?? []) { Timeout = SandboxProbe.ExecAttemptTimeout, DiscardStdout = true, DiscardStderr = true }, ct)
                .ConfigureAwait(false);
        }
        catch (ExecStartException)
        {
            return false;
        }

        await using (process.ConfigureAwait(false))
        {
            try
            {
                return (await process.Completion.WaitAsync(ct).ConfigureAwait(false)).ExitCode == 0;
            }
            catch (OperationCanceledException)
            {
                await process.KillAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }
    }
}
