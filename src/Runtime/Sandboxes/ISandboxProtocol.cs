using TypedSandbox.Protocol.Client;
using TypedSandbox.Transport;

namespace TypedSandbox.Sandboxes;

/// <summary>
/// One RPC family serving a sandbox handle. Modal has two: V1 (<c>SandboxCreate</c> ids, the control plane's
/// <c>Sandbox*</c> calls and its log stream) and V2 (<c>SandboxCreateV2</c> ids, the <c>*V2</c> calls and the
/// command router's stdio). Which one serves a sandbox follows from its id (<see cref="SandboxIds.IsV1"/>); which one
/// creates, finds and lists sandboxes follows from the client's settings (<see cref="SandboxFamily"/>). What both do
/// alike is written once in <see cref="ControlPlaneSandboxProtocol"/>.
/// </summary>
internal interface ISandboxProtocol
{
    /// <summary>Terminates the sandbox.</summary>
    Task TerminateAsync(CancellationToken cancellationToken);

    /// <summary>Replaces the sandbox's tags.</summary>
    Task SetTagsAsync(IEnumerable<SandboxTag> tags, CancellationToken cancellationToken);

    /// <summary>Reads the sandbox's tags.</summary>
    Task<IReadOnlyList<SandboxTag>> GetTagsAsync(CancellationToken cancellationToken);

    /// <summary>Reads the sandbox's tunnels; the server may wait up to <paramref name="timeout"/> for them.</summary>
    Task<SandboxGetTunnelsResponse> GetTunnelsAsync(TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Waits up to <paramref name="longPoll"/> for the sandbox to finish; null while it still runs.</summary>
    Task<GenericResult?> WaitAsync(TimeSpan longPoll, CancellationToken cancellationToken);

    /// <summary>Asks once for the sandbox's task id (or its result, when it has finished).</summary>
    Task<SandboxGetTaskIdResponse> GetTaskIdAsync(CancellationToken cancellationToken);

    /// <summary>Asks the control plane where the sandbox's command router is and for a fresh JWT.</summary>
    Task<RouterAccess> FetchRouterAccessAsync(CancellationToken cancellationToken);

    /// <summary>Opens the entrypoint's stdout or stderr from its start.</summary>
    IByteSource OpenEntrypointOutput(bool stderr, string description);

    /// <summary>Opens the entrypoint's stdin.</summary>
    IByteSink OpenEntrypointInput();
}
