using TypedSandbox.Protocol.Client;
using TypedSandbox.Transport;

namespace TypedSandbox.Sandboxes;

/// <summary>
/// What V1 and V2 do alike for a sandbox handle: the control-plane calls keyed by sandbox id (terminate, tags,
/// tunnels, wait, task id), each family through its own <see cref="SandboxCalls"/>. The router and the entrypoint's
/// stdio differ and stay with each family.
/// </summary>
internal abstract class ControlPlaneSandboxProtocol(SandboxConnection connection, SandboxCalls calls) : ISandboxProtocol
{
    protected SandboxConnection Connection => connection;

    protected ControlPlane ControlPlane => connection.Client.ControlPlane;

    public Task TerminateAsync(CancellationToken cancellationToken) =>
        CallAsync(calls.Terminate, new SandboxTerminateRequest { SandboxId = connection.SandboxId }, cancellationToken);

    public Task SetTagsAsync(IEnumerable<SandboxTag> tags, CancellationToken cancellationToken)
    {
        var request = new SandboxTagsSetRequest { SandboxId = connection.SandboxId };
        if (calls.TagsNameEnvironment)
        {
            request.EnvironmentName = connection.Client.Environment;
        }

        request.Tags.Add(tags);
        return CallAsync(calls.TagsSet, request, cancellationToken);
    }

    public async Task<IReadOnlyList<SandboxTag>> GetTagsAsync(CancellationToken cancellationToken) =>
        (await CallAsync(calls.TagsGet, new SandboxTagsGetRequest { SandboxId = connection.SandboxId }, cancellationToken).ConfigureAwait(false)).Tags;

    public Task<SandboxGetTunnelsResponse> GetTunnelsAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(calls.GetTunnels, new SandboxGetTunnelsRequest { SandboxId = connection.SandboxId, Timeout = (float)timeout.TotalSeconds }, cancellationToken);

    public async Task<GenericResult?> WaitAsync(TimeSpan longPoll, CancellationToken cancellationToken) =>
        SandboxResponses.Finished(await ControlPlane.CallAsync(calls.Wait.Name, calls.Wait.Invoke,
            new SandboxWaitRequest { SandboxId = connection.SandboxId, Timeout = (float)longPoll.TotalSeconds }, cancellationToken,
            SandboxResponses.WaitAttemptTimeout(longPoll), connection.NotFoundMessage).ConfigureAwait(false));

    public Task<SandboxGetTaskIdResponse> GetTaskIdAsync(CancellationToken cancellationToken) =>
        CallAsync(calls.GetTaskId, new SandboxGetTaskIdRequest { SandboxId = connection.SandboxId }, cancellationToken);

    public abstract Task<RouterAccess> FetchRouterAccessAsync(CancellationToken cancellationToken);

    public abstract IByteSource OpenEntrypointOutput(bool stderr, string description);

    public abstract IByteSink OpenEntrypointInput();

    private Task<TResponse> CallAsync<TRequest, TResponse>(Rpc<TRequest, TResponse> rpc, TRequest request, CancellationToken cancellationToken) =>
        ControlPlane.CallAsync(rpc.Name, rpc.Invoke, request, cancellationToken, notFoundMessage: connection.NotFoundMessage);
}
