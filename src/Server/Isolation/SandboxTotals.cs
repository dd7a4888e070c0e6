using System.Globalization;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// What all sandboxes of the host may hold together, as limits of their parent cgroup (<c>/typedsandbox</c> under each
/// controller): each sandbox's own limits bound it alone, and enough sandboxes within their limits (gVisor may take
/// 5,120 host tasks each) could otherwise take every pid or every page the host has. With these, the kernel refuses the
/// fork or reclaims and OOM-kills inside the sandboxes; the engine, which runs outside that cgroup, and the rest of the
/// host keep what is left.
/// </summary>
/// <param name="Pids">Processes and threads of all sandboxes (their runtimes' and helpers' included).</param>
/// <param name="MemoryBytes">Memory of all sandboxes, page cache included (reclaimed before anything is killed).</param>
internal sealed record SandboxTotals(long Pids, long MemoryBytes)
{
    /// <summary>The bounds when the operator sets none: three quarters of the host's pids, its memory less an eighth (at least 1 GiB).</summary>
    public static SandboxTotals ForHost()
    {
        var pidMax = ReadPidMax();
        var memory = Engine.HostCapacity.MemoryMiB == long.MaxValue ? long.MaxValue : Engine.HostCapacity.MemoryMiB << 20;
        return new SandboxTotals(
            pidMax == long.MaxValue ? long.MaxValue : pidMax * 3 / 4,
            memory == long.MaxValue ? long.MaxValue : memory - Math.Max(1L << 30, memory / 8));
    }

    /// <summary>The host's <c>kernel.pid_max</c>, the most tasks it can have; <see cref="long.MaxValue"/> when unreadable.</summary>
    private static long ReadPidMax()
    {
        try
        {
            return long.TryParse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var max)
                ? max
                : long.MaxValue;
        }
        catch (IOException)
        {
            return long.MaxValue;
        }
    }
}
