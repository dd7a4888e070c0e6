using TypedSandbox.Protocol.Client;
using TypedSandbox.Sandboxes;

namespace TypedSandbox;

/// <summary>Memory snapshots and exit snapshots (Modal's <c>experimentalSnapshot</c>, <c>experimentalGetExitSnapshot</c>).</summary>
public sealed partial class Sandbox
{
    private static readonly TimeSpan ExitSnapshotLongPoll = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Snapshots the sandbox's memory and filesystem; the sandbox must have been created with
    /// <see cref="SandboxCreateOptions.ExperimentalEnableSnapshot"/>. On the local engine the sandbox ends when it is snapshotted.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="SandboxException">The snapshot failed; the message says why.</exception>
    public async Task<SandboxSnapshot> ExperimentalSnapshotAsync(CancellationToken cancellationToken = default)
    {
        await _connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
        var started = await Client.ControlPlane.CallAsync("SandboxSnapshot", static (c, r, o) => c.SandboxSnapshotAsync(r, o),
            new SandboxSnapshotRequest { SandboxId = SandboxId }, cancellationToken).ConfigureAwait(false);
        var waited = await Client.ControlPlane.CallAsync("SandboxSnapshotWait", static (c, r, o) => c.SandboxSnapshotWaitAsync(r, o),
            new SandboxSnapshotWaitRequest { SnapshotId = started.SnapshotId, Timeout = 55 }, cancellationToken).ConfigureAwait(false);
        if (waited.Result?.Status != GenericResult.Types.GenericStatus.Success)
        {
            throw new SandboxException(waited.Result?.Exception is { Length: > 0 } reason ? reason : $"Snapshot {started.SnapshotId} did not complete.");
        }

        return SandboxSnapshot.FromId(started.SnapshotId);
    }

    /// <summary>
    /// The image of the sandbox's filesystem when it ended; the sandbox must have been created with the experimental
    /// option <c>enable_exit_snapshot</c>. Waits for the sandbox to end (up to <paramref name="timeout"/>, no limit by default).
    /// </summary>
    /// <param name="timeout">How long to wait; null waits as long as it takes.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="SandboxTimeoutException">The snapshot was not ready in time.</exception>
    /// <exception cref="SandboxException">The snapshot failed.</exception>
    public async Task<Image> ExperimentalGetExitSnapshotAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var deadline = timeout is { } t ? Client.Time.GetUtcNow() + t : (DateTimeOffset?)null;
        var v1 = SandboxIds.IsV1(SandboxId);
        while (true)
        {
            var remaining = deadline is { } d ? d - Client.Time.GetUtcNow() : ExitSnapshotLongPoll;
            var request = new SandboxGetExitSnapshotRequest
            {
                SandboxId = SandboxId,
                Timeout = (float)Math.Clamp(remaining.TotalSeconds, 0, ExitSnapshotLongPoll.TotalSeconds),
            };
            var response = v1
                ? await Client.ControlPlane.CallAsync("SandboxGetExitSnapshot", static (c, r, o) => c.SandboxGetExitSnapshotAsync(r, o), request, cancellationToken)
                    .ConfigureAwait(false)
                : await Client.ControlPlane.CallAsync("SandboxGetExitSnapshotV2", static (c, r, o) => c.SandboxGetExitSnapshotV2Async(r, o), request, cancellationToken)
                    .ConfigureAwait(false);
            switch (response.OutcomeCase)
            {
                case SandboxGetExitSnapshotResponse.OutcomeOneofCase.Success:
                    return Client.Images.FromBuiltId(response.Success.ImageId);
                case SandboxGetExitSnapshotResponse.OutcomeOneofCase.Error:
                    throw new SandboxException(response.Error.Message is { Length: > 0 } m ? m : "No exit snapshot image will be produced.");
            }

            if (deadline is { } end && Client.Time.GetUtcNow() >= end)
            {
                throw new SandboxTimeoutException($"Timed out waiting for the exit snapshot of sandbox {SandboxId}.");
            }
        }
    }
}
