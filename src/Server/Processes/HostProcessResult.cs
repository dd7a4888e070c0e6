namespace TypedSandbox.Server.Processes;

/// <summary>How a host process run by <see cref="HostProcesses.RunAsync"/> ended.</summary>
/// <param name="ExitCode">Its exit code (128 + signal when a signal ended it, as a shell reports it).</param>
/// <param name="Stdout">Its stdout, up to <see cref="HostProcessStart.StdoutLimit"/> characters.</param>
/// <param name="Stderr">The last lines of its stderr (<see cref="HostProcessStart.StderrLines"/>).</param>
/// <param name="TimedOut">True when the supervisor killed it at its <see cref="HostProcessStart.Timeout"/>.</param>
internal sealed record HostProcessResult(int ExitCode, string Stdout, string Stderr, bool TimedOut)
{
    /// <summary>It exited with code 0 in time.</summary>
    public bool Succeeded => ExitCode == 0 && !TimedOut;
}
