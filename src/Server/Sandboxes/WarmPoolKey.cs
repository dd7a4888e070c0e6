using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// The shape of a sandbox as the warm pool matches it: everything fixed when its container starts (image, limits,
/// network). What a claim sets later (environment, working directory, entrypoint, ports, name, tags, timeouts) is not
/// part of it.
/// </summary>
internal readonly record struct WarmPoolKey(string ImageId, uint MemoryMb, uint MilliCpu, uint EphemeralDiskMb, NetworkMode Network, string AllowedCidrs)
{
    /// <summary>
    /// The key of <paramref name="spec"/>, or null when such a sandbox is never pooled: one with volumes (bound when its
    /// container starts), one on a runtime of its own choosing, one that keeps memory or exit snapshots, one with an egress proxy.
    /// </summary>
    public static WarmPoolKey? Of(SandboxSpec spec) =>
        spec.Volumes.Count > 0 || spec.Network.Egress is not null || spec.Runtime != SandboxRuntime.Default || spec.EnableMemorySnapshot || spec.EnableExitSnapshot
            ? null
            : new WarmPoolKey(spec.ImageId, spec.MemoryMb, spec.MilliCpu, spec.EphemeralDiskMb, spec.Network.Mode, (spec.Network.Filters ? "only:" : "") + string.Join(",", spec.Network.AllowedCidrs));
}

/// <summary>How many sandboxes the warm pool keeps ready (see <see cref="WarmPool"/>).</summary>
internal sealed record WarmPoolOptions
{
    /// <summary>Ready sandboxes kept per shape; 0 turns the pool off.</summary>
    public int SizePerKey { get; init; }

    /// <summary>Shapes kept at once; the least recently claimed is dropped for a new one.</summary>
    public int MaxKeys { get; init; } = 4;

    /// <summary>
    /// How long a refill waits after a claim before it starts a container, so the claimer's first moments (its first
    /// exec, its output) do not share the host's cores with a container start.
    /// </summary>
    public TimeSpan RefillDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The most memory (at the pooled sandboxes' limits) the pool may hold: half the host's by default.</summary>
    public long MemoryBudgetMiB { get; init; } = Math.Max(1, Engine.HostCapacity.MemoryMiB / 2);
}
