using TypedSandbox.Protocol.Client;

namespace TypedSandbox;

/// <summary>Restoring memory snapshots (Modal's <c>sandboxes.experimentalFromSnapshot</c>).</summary>
public sealed partial class SandboxService
{
    /// <summary>Starts a new sandbox from a memory snapshot: its processes continue where they were.</summary>
    /// <param name="snapshot">The snapshot (<see cref="Sandbox.ExperimentalSnapshotAsync"/> or <see cref="SandboxSnapshot.FromId"/>).</param>
    /// <param name="cancellationToken">Cancels the restore.</param>
    /// <exception cref="NotFoundException">No such snapshot.</exception>
    public async Task<Sandbox> ExperimentalFromSnapshotAsync(SandboxSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var found = await _client.ControlPlane.CallAsync("SandboxSnapshotGet", static (c, r, o) => c.SandboxSnapshotGetAsync(r, o),
            new SandboxSnapshotGetRequest { SnapshotId = snapshot.SnapshotId }, cancellationToken).ConfigureAwait(false);
        if (found.HandleMetadata?.IsV2 == true)
        {
            var v2 = await _client.ControlPlane.CallAsync("SandboxRestoreV2", static (c, r, o) => c.SandboxRestoreV2Async(r, o),
                new SandboxRestoreV2Request { SnapshotId = snapshot.SnapshotId }, cancellationToken).ConfigureAwait(false);
            var access = v2.CommandRouterAccess is { Url.Length: > 0 } inline ? new Transport.RouterAccess(inline.Url, inline.Jwt) : null;
            return new Sandbox(_client, v2.SandboxId, v2.TaskId.Length > 0 ? v2.TaskId : null, access, null);
        }

        var v1 = await _client.ControlPlane.CallAsync("SandboxRestore", static (c, r, o) => c.SandboxRestoreAsync(r, o),
            new SandboxRestoreRequest { SnapshotId = snapshot.SnapshotId }, cancellationToken).ConfigureAwait(false);
        return new Sandbox(_client, v1.SandboxId, null, null, null);
    }
}
