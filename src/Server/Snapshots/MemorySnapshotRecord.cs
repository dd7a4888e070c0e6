using System.Text.Json;
using TypedSandbox.Agent.Protocol;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Snapshots;

/// <summary>What a memory snapshot holds besides runsc's image and the filesystem copy: enough to rebuild the same bundle.</summary>
/// <param name="SnapshotId">The snapshot's id (<c>sn-…</c>).</param>
/// <param name="SandboxId">The sandbox it was taken of.</param>
/// <param name="Spec">That sandbox's spec: the restored bundle is built from it (same mounts, environment, limits).</param>
/// <param name="Channel">The engine end of the agent channel at the checkpoint.</param>
/// <param name="CreatedAt">When it was taken.</param>
internal sealed record MemorySnapshotRecord(string SnapshotId, string SandboxId, SandboxSpec Spec, AgentChannelState Channel, DateTimeOffset CreatedAt)
{
    private const string FileName = "snapshot.json";
    private static readonly JsonSerializerOptions Json = new() { IncludeFields = true };

    /// <summary>runsc's checkpoint image under a snapshot directory.</summary>
    public static string MemoryDirectory(string snapshotDirectory) => Path.Combine(snapshotDirectory, "memory");

    /// <summary>The writable-layer copy under a snapshot directory.</summary>
    public static string UpperDirectory(string snapshotDirectory) => Path.Combine(snapshotDirectory, "upper");

    /// <summary>Writes the record into <paramref name="snapshotDirectory"/> (it holds the frame key: root-only, like the rest).</summary>
    public async Task WriteAsync(string snapshotDirectory, CancellationToken ct)
    {
        var path = Path.Combine(snapshotDirectory, FileName);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var stream = new FileStream(path, options);
        await using (stream.ConfigureAwait(false))
        {
            await JsonSerializer.SerializeAsync(stream, ToStored(), Json, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the record of <paramref name="snapshotDirectory"/>; null when there is none (not a finished snapshot).</summary>
    public static async Task<MemorySnapshotRecord?> ReadAsync(string snapshotDirectory, CancellationToken ct)
    {
        var path = Path.Combine(snapshotDirectory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            var stored = await JsonSerializer.DeserializeAsync<Stored>(stream, Json, ct).ConfigureAwait(false)
                ?? throw new InvalidDataException($"{path} is empty.");
            return new MemorySnapshotRecord(stored.SnapshotId, stored.SandboxId, stored.Spec,
                new AgentChannelState(new FrameSealState(stored.K0, stored.K1, stored.Sent, stored.Received), stored.NextId), stored.CreatedAt);
        }
    }

    private Stored ToStored() => new(SnapshotId, SandboxId, Spec, Channel.Seal.K0, Channel.Seal.K1, Channel.Seal.Sent, Channel.Seal.Received,
        Channel.NextId, CreatedAt);

    private sealed record Stored(string SnapshotId, string SandboxId, SandboxSpec Spec, ulong K0, ulong K1, ulong Sent, ulong Received, int NextId,
        DateTimeOffset CreatedAt);
}
