namespace TypedSandbox.Server.Exec;

/// <summary>How a process ended.</summary>
/// <param name="ExitCode">The exit code when it exited normally; null when a signal ended it.</param>
/// <param name="Signal">The signal that ended it, if any.</param>
/// <param name="TimedOut">The supervisor killed it because its timeout elapsed.</param>
/// <param name="OomKilled">The kernel's OOM killer ended it (the sandbox's memory limit was hit).</param>
/// <param name="Cause">For a whole sandbox that ended without being asked to: a limit it reached, in words; else null.</param>
internal readonly record struct ProcessExit(int? ExitCode, int? Signal, bool TimedOut, bool OomKilled = false, string? Cause = null)
{
    /// <summary>The shell's convention: the exit code, or 128 + signal (137 for SIGKILL).</summary>
    public int StatusCode => ExitCode ?? 128 + (Signal ?? 0);
}
