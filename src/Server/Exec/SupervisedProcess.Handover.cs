namespace TypedSandbox.Server.Exec;

/// <summary>Where a process stood when its engine handed the sandbox over (see <see cref="AgentChannel.HandOverAsync"/>).</summary>
/// <param name="ChannelId">Its id on the agent's channel.</param>
/// <param name="Pid">Its pid inside the sandbox.</param>
/// <param name="StdinOffset">Stdin bytes forwarded so far.</param>
/// <param name="StdinClosed">Stdin was closed.</param>
/// <param name="OpenStreams">Output streams the agent had not closed yet.</param>
/// <param name="ExitCode">Its exit code once reaped, if it exited.</param>
/// <param name="ExitSignal">The signal that ended it, if one did.</param>
/// <param name="Reaped">The agent reported its exit.</param>
/// <param name="TimedOut">Its timeout fired.</param>
/// <param name="OomKillsAtStart">The sandbox's OOM-kill count when it started.</param>
/// <param name="TimeoutLeft">What was left of its timeout; null = none.</param>
/// <param name="Stdout">Its stdout journal.</param>
/// <param name="Stderr">Its stderr journal.</param>
internal sealed record ProcessHandover(
    uint ChannelId, int Pid, long StdinOffset, bool StdinClosed, int OpenStreams, int? ExitCode, int? ExitSignal, bool Reaped,
    bool TimedOut, long OomKillsAtStart, TimeSpan? TimeoutLeft, JournalHandover Stdout, JournalHandover Stderr)
{
    /// <summary>The final result, when the process had ended (exited and both streams closed) before the handover.</summary>
    public ProcessExit? Final { get; init; }
}

internal sealed partial class SupervisedProcess
{
    /// <summary>Saves where this process stands; its output goes to <paramref name="stdout"/> and <paramref name="stderr"/>.</summary>
    internal ProcessHandover SaveForHandover(Stream stdout, Stream stderr)
    {
        var stdoutState = Stdout.SaveForHandover(stdout);
        var stderrState = Stderr.SaveForHandover(stderr);
        lock (_gate)
        {
            var left = _timeout is { } timeout ? timeout - System.Diagnostics.Stopwatch.GetElapsedTime(_requestedAt) : (TimeSpan?)null;
            return new ProcessHandover(ChannelId, Pid, Interlocked.Read(ref _stdinOffset), _stdinClosed, _openStreams,
                _exit?.Code, _exit?.Signal, _exit is not null, _timedOut, _oomKillsAtStart, left, stdoutState, stderrState)
            {
                Final = _final ?? (_completion.Task.IsCompletedSuccessfully ? _completion.Task.Result : null),
            };
        }
    }

    /// <summary>
    /// A process of the engine before, under the adopting engine's <paramref name="channel"/>: same channel id, pid, stdin
    /// offset, output and exit; its timeout runs on with what was left of it.
    /// </summary>
    internal static SupervisedProcess Adopt(AgentChannel channel, ProcessHandover state, Stream stdout, Stream stderr)
    {
        var process = new SupervisedProcess(channel, state.ChannelId, new ProcessSpec(["(adopted)"]));
        process.Stdout.LoadFromHandover(state.Stdout, stdout);
        process.Stderr.LoadFromHandover(state.Stderr, stderr);
        process.Pid = state.Pid;
        process._stdinOffset = state.StdinOffset;
        process._stdinClosed = state.StdinClosed;
        process._openStreams = state.OpenStreams;
        process._exit = state.Reaped ? (state.ExitCode, state.ExitSignal) : null;
        process._timedOut = state.TimedOut;
        process._oomKillsAtStart = state.OomKillsAtStart;
        process._started.TrySetResult();
        if (state.Final is { } final)
        {
            process._final = final;
            process._completion.TrySetResult(final);
            return process;
        }

        if (state.TimeoutLeft is { } left)
        {
            process._timeout = left;
            _ = process.EnforceTimeoutAsync(left - TimeoutLead, process._lifetime.Token);
        }

        return process;
    }
}
