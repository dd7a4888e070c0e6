namespace TypedSandbox.Server.Isolation;

/// <summary>
/// The words for a sandbox that ended without being asked to, when its cgroups show it reached a limit: the memory
/// limit (the OOM killer took its init, or gVisor's kernel), or the pids limit (under runsc the host counts gVisor's own
/// threads, and its Go runtime ends the whole sandbox when it cannot make one). They become the sandbox's result message.
/// </summary>
internal static class SandboxEndCause
{
    /// <summary>The cause, or null when neither counter moved (the end is then only its exit status).</summary>
    /// <param name="flavor">The runtime that ran the sandbox.</param>
    /// <param name="limits">The limits its cgroups had (<see cref="OciConfig.LimitsFor"/>).</param>
    /// <param name="oomKills">Its memory cgroup's OOM kills.</param>
    /// <param name="pidsLimitHits">Forks and clones its pids cgroup refused.</param>
    public static string? Describe(RuntimeFlavor flavor, ResourceLimits limits, long oomKills, long pidsLimitHits)
    {
        if (oomKills > 0 && limits.MemoryBytes is { } memory)
        {
            return $"The sandbox ran out of memory: it reached its limit of {memory / (1024 * 1024)} MiB.";
        }

        return pidsLimitHits > 0 && limits.Pids is { } pids
            ? flavor == RuntimeFlavor.Runsc
                ? $"The sandbox reached its limit of {pids} host processes and threads (gVisor's own threads count too), and gVisor's kernel ended."
                : $"The sandbox reached its limit of {pids} processes and threads."
            : null;
    }
}
