using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes.Handover;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// Sandboxes that outlive their engine (<c>--keep-sandboxes</c>): at stop the engine hands each running sandbox it can
/// over (<see cref="HandOverAsync"/>) instead of terminating it, and the next engine on the same state directory adopts
/// them before it serves (<see cref="AdoptHandedOverAsync"/>): same ids, names, tags, timeouts, execs and output offsets.
/// </summary>
internal sealed partial class SandboxManager
{
    /// <summary>Where handed-over sandboxes are saved (the state directory's <c>handover</c> folder); null = never.</summary>
    internal string? HandoverDirectory { get; init; }

    /// <summary>How long a handed-over sandbox waits for the next engine; zero = sandboxes end with the engine.</summary>
    internal TimeSpan HandoverGrace { get; init; }

    private int _handedOver;

    /// <summary>How many sandboxes this engine handed to the next one when it stopped.</summary>
    internal int HandedOverCount => Volatile.Read(ref _handedOver);

    /// <summary>
    /// True when <paramref name="session"/> can outlive this engine: its container can be handed over (a detached crun or
    /// runsc init) and nothing of it lives only in this process (sidecars, an egress proxy, an outbound policy, an exit
    /// snapshot; tunnels are opened again).
    /// </summary>
    private bool CanHandOver(SandboxSession session) =>
        HandoverGrace > TimeSpan.Zero && HandoverDirectory is not null && session.Result is null && SpecHandover.Covers(session.Spec)
        && session.Sidecars.IsEmpty && session.Container is ContainerHandle { CanHandOver: true };

    /// <summary>
    /// Hands <paramref name="session"/> to the next engine: stops its agent's channel at a frame boundary, saves it and its
    /// processes' output to the handover folder. False when it cannot (it is then terminated as usual).
    /// </summary>
    private async Task<bool> HandOverAsync(SandboxSession session)
    {
        if (!CanHandOver(session) || session.Container is not ContainerHandle container || !session.TryClaimFinish())
        {
            return false;
        }

        var directory = Path.Combine(HandoverDirectory!, session.Id);
        try
        {
            // Root's only (the state directory is too): it holds the sandbox's environment and its channel's key.
            Directory.CreateDirectory(directory);
            Images.NativeFileSystem.Chmod(HandoverDirectory!, 0b111_000_000);
            Images.NativeFileSystem.Chmod(directory, 0b111_000_000);
            // Tunnels close first (their open connections end, as an engine stop ends them): the next engine listens
            // again on the same host ports. Their connections live in the agent's channel, which must be quiet before it is handed over.
            var tunnelHostPorts = session.Tunnels?.Endpoints.ToDictionary(e => e.ContainerPort, e => e.HostPort) ?? [];
            if (session.Tunnels is { } tunnels)
            {
                await tunnels.DisposeAsync().ConfigureAwait(false);
            }

            var handover = await container.HandOverAsync(HandoverGrace, CancellationToken.None).ConfigureAwait(false)
                ?? throw new InvalidOperationException("its container can no longer be handed over");
            var execs = new List<ExecHandover>();
            if (container.Entrypoint is { } entrypoint)
            {
                execs.Add(new ExecHandover(null, null, Save(entrypoint, directory)));
            }

            foreach (var (execId, process, finishedAt) in session.Execs.Snapshot())
            {
                execs.Add(new ExecHandover(execId, finishedAt, Save(process, directory)));
            }

            var (nextIndex, stdinOffset) = session.StdinNumbering;
            await new SandboxHandover
            {
                SandboxId = session.Id,
                TaskId = session.TaskId,
                CreatedAt = session.CreatedAt,
                LastActivity = session.LastActivity,
                // A name set after the create (experimentalSetName) lives in the registry: it goes with the spec.
                Spec = SpecHandover.Of(session.Spec, session.Tags) with { Name = _registry.NameOf(session) },
                Container = handover,
                NextStdinIndex = nextIndex,
                EntrypointStdinOffset = stdinOffset,
                Execs = execs,
                TunnelHostPorts = tunnelHostPorts,
            }.SaveAsync(directory, CancellationToken.None).ConfigureAwait(false);
            LogHandedOver(session.Id, execs.Count, HandoverGrace.TotalSeconds);
            Interlocked.Increment(ref _handedOver);
            return true;
        }
        catch (Exception exception)
        {
            // Not handed over: the agent ends the sandbox when its grace runs out, or at once once its channel closes.
            LogHandoverFailed(exception, session.Id);
            TryDelete(directory);
            session.Container = null;
            await container.TerminateAsync(CancellationToken.None).ConfigureAwait(false);
            return false;
        }

        static ProcessHandover Save(SupervisedProcess process, string directory)
        {
            using var stdout = SandboxHandover.CreatePrivateFile(SandboxHandover.OutputFile(directory, process.ChannelId, 1));
            using var stderr = SandboxHandover.CreatePrivateFile(SandboxHandover.OutputFile(directory, process.ChannelId, 2));
            return process.SaveForHandover(stdout, stderr);
        }
    }

    /// <summary>
    /// Adopts the sandboxes the engine before handed over: each comes back running under its own id with its execs and
    /// their output; one that ended meanwhile, or cannot be adopted, is reported as terminated by the orphan sweep.
    /// Returns the container ids adopted (the leftover sweep keeps their host resources).
    /// </summary>
    internal async Task<IReadOnlySet<string>> AdoptHandedOverAsync(CancellationToken cancellationToken)
    {
        var adopted = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        if (HandoverDirectory is null || !Directory.Exists(HandoverDirectory))
        {
            return new HashSet<string>();
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // A few at a time: each mostly waits (on slirp4netns, on the agent's answer), and the engine serves once all are back.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = AdoptionParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Directory.GetDirectories(HandoverDirectory), parallel, async (directory, ct) =>
        {
            SandboxHandover? handover = null;
            try
            {
                handover = await SandboxHandover.LoadAsync(directory, ct).ConfigureAwait(false);
                if (handover is not null && await AdoptAsync(handover, directory, ct).ConfigureAwait(false))
                {
                    adopted[handover.Container.Id] = true;
                }
                else if (handover is not null)
                {
                    // This engine's runtime cannot adopt it (another default runtime): it ends now, not at its grace.
                    await ContainerHandover.KillInitAsync(handover.Container.InitPid, handover.Container.CgroupsPath).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogAdoptionFailed(exception, Path.GetFileName(directory));
                if (handover is not null)
                {
                    await ContainerHandover.KillInitAsync(handover.Container.InitPid, handover.Container.CgroupsPath).ConfigureAwait(false);
                }
            }
            finally
            {
                TryDelete(directory);
            }
        }).ConfigureAwait(false);

        var elapsed = (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogAdoptedAll(adopted.Count, elapsed);
        return new HashSet<string>(adopted.Keys, StringComparer.Ordinal);
    }

    /// <summary>How many handed-over sandboxes are adopted at once at start.</summary>
    private const int AdoptionParallelism = 8;

    /// <summary>The ids of the sandboxes this engine runs now (adopted ones included): the orphan sweep leaves them running.</summary>
    internal IReadOnlyList<string> RunningSandboxIds => [.. _registry.All.Where(s => s.Result is null).Select(s => s.Id)];

    private async Task<bool> AdoptAsync(SandboxHandover handover, string directory, CancellationToken cancellationToken)
    {
        var session = new SandboxSession(handover.SandboxId, handover.TaskId, handover.Spec.ToSpec(), handover.CreatedAt)
        {
            Tags = handover.Spec.Tags,
            StdinNumbering = (handover.NextStdinIndex, handover.EntrypointStdinOffset),
        };
        session.Touch(handover.LastActivity);
        var execs = new List<(ExecHandover Exec, SupervisedProcess Process)>();
        var container = await _runtime.AdoptAsync(handover.Container, channel =>
        {
            SupervisedProcess? entrypoint = null;
            foreach (var exec in handover.Execs)
            {
                using var stdout = File.OpenRead(SandboxHandover.OutputFile(directory, exec.Process.ChannelId, 1));
                using var stderr = File.OpenRead(SandboxHandover.OutputFile(directory, exec.Process.ChannelId, 2));
                var process = SupervisedProcess.Adopt(channel, exec.Process, stdout, stderr);
                channel.AdoptProcess(process);
                if (exec.ExecId is null)
                {
                    entrypoint = process;
                }
                else
                {
                    execs.Add((exec, process));
                }
            }

            return entrypoint;
        }, cancellationToken).ConfigureAwait(false);
        if (container is null)
        {
            return false;
        }

        session.Container = container;
        foreach (var (exec, process) in execs)
        {
            if (exec.FinishedAt is { } finishedAt)
            {
                session.Execs.AddFinished(exec.ExecId!, process, finishedAt);
            }
            else
            {
                session.Execs.TryAdd(exec.ExecId!, process, () => Touch(session));
            }
        }

        await OpenTunnelsAsync(session, container, handover.TunnelHostPorts).ConfigureAwait(false);
        _registry.ReserveName(session);
        session.EndStart();
        _registry.Add(session);
        _ = _lifetime.WatchAsync(session, container);
        LogAdopted(session.Id, execs.Count);
        return true;
    }

    private void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            LogHandoverFailed(exception, Path.GetFileName(directory));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId} handed over to the next engine with {Processes} processes; it waits {GraceSeconds} s for one")]
    private partial void LogHandedOver(string sandboxId, int processes, double graceSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox {SandboxId}: the handover to the next engine failed; the sandbox is terminated")]
    private partial void LogHandoverFailed(Exception exception, string sandboxId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId} adopted from the engine before with {Execs} execs")]
    private partial void LogAdopted(string sandboxId, int execs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Adopted {Count} sandboxes handed over by the engine before in {Milliseconds} ms")]
    private partial void LogAdoptedAll(int count, long milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handed-over sandbox {Directory} could not be adopted; it is reported as terminated")]
    private partial void LogAdoptionFailed(Exception exception, string directory);
}
