namespace TypedSandbox;

/// <summary>A memory snapshot of a sandbox (Modal's <c>SandboxSnapshot</c>): restore it with
/// <see cref="SandboxService.ExperimentalFromSnapshotAsync"/>.</summary>
public sealed class SandboxSnapshot
{
    private SandboxSnapshot(string snapshotId) => SnapshotId = snapshotId;

    /// <summary>The snapshot id (<c>sn-…</c>).</summary>
    public string SnapshotId { get; }

    /// <summary>A handle for an existing snapshot id (Modal's <c>sandboxSnapshots.fromId</c>); the server checks it on restore.</summary>
    /// <exception cref="ArgumentException">The id is empty.</exception>
    public static SandboxSnapshot FromId(string snapshotId)
    {
        ArgumentException.ThrowIfNullOrEmpty(snapshotId);
        return new SandboxSnapshot(snapshotId);
    }

    /// <inheritdoc/>
    public override string ToString() => $"SandboxSnapshot {SnapshotId}";
}
