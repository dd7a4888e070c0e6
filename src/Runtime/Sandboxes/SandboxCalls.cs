using Grpc.Core;
using TypedSandbox.Protocol.Client;
using static TypedSandbox.Protocol.Client.ModalClient;

namespace TypedSandbox.Sandboxes;

/// <summary>One control-plane RPC: its name (for errors and logs) and how to start it on the generated client.</summary>
internal sealed record Rpc<TRequest, TResponse>(string Name, Func<ModalClientClient, TRequest, CallOptions, AsyncUnaryCall<TResponse>> Invoke);

/// <summary>
/// The control-plane RPCs V1 and V2 share in shape (the same messages under each family's own names), and the few
/// ways the families fill those messages differently.
/// </summary>
internal sealed record SandboxCalls(
    Rpc<SandboxTerminateRequest, SandboxTerminateResponse> Terminate,
    Rpc<SandboxTagsSetRequest, Google.Protobuf.WellKnownTypes.Empty> TagsSet,
    Rpc<SandboxTagsGetRequest, SandboxTagsGetResponse> TagsGet,
    Rpc<SandboxGetTunnelsRequest, SandboxGetTunnelsResponse> GetTunnels,
    Rpc<SandboxWaitRequest, SandboxWaitResponse> Wait,
    Rpc<SandboxGetTaskIdRequest, SandboxGetTaskIdResponse> GetTaskId,
    Rpc<SandboxGetFromNameRequest, SandboxGetFromNameResponse> GetFromName,
    Rpc<SandboxListRequest, SandboxListResponse> List)
{
    /// <summary>V1 names the environment when setting tags; V2 finds it from the sandbox id.</summary>
    public bool TagsNameEnvironment { get; init; }

    /// <summary>V2 scopes a list of one app by the app alone (no environment name).</summary>
    public bool ListOfAppOmitsEnvironment { get; init; }

    /// <summary>The V1 family's calls.</summary>
    public static SandboxCalls V1 { get; } = new(
        new("SandboxTerminate", static (c, r, o) => c.SandboxTerminateAsync(r, o)),
        new("SandboxTagsSet", static (c, r, o) => c.SandboxTagsSetAsync(r, o)),
        new("SandboxTagsGet", static (c, r, o) => c.SandboxTagsGetAsync(r, o)),
        new("SandboxGetTunnels", static (c, r, o) => c.SandboxGetTunnelsAsync(r, o)),
        new("SandboxWait", static (c, r, o) => c.SandboxWaitAsync(r, o)),
        new("SandboxGetTaskId", static (c, r, o) => c.SandboxGetTaskIdAsync(r, o)),
        new("SandboxGetFromName", static (c, r, o) => c.SandboxGetFromNameAsync(r, o)),
        new("SandboxList", static (c, r, o) => c.SandboxListAsync(r, o)))
    {
        TagsNameEnvironment = true,
    };

    /// <summary>The V2 family's calls.</summary>
    public static SandboxCalls V2 { get; } = new(
        new("SandboxTerminateV2", static (c, r, o) => c.SandboxTerminateV2Async(r, o)),
        new("SandboxTagsSetV2", static (c, r, o) => c.SandboxTagsSetV2Async(r, o)),
        new("SandboxTagsGetV2", static (c, r, o) => c.SandboxTagsGetV2Async(r, o)),
        new("SandboxGetTunnelsV2", static (c, r, o) => c.SandboxGetTunnelsV2Async(r, o)),
        new("SandboxWaitV2", static (c, r, o) => c.SandboxWaitV2Async(r, o)),
        new("SandboxGetTaskIdV2", static (c, r, o) => c.SandboxGetTaskIdV2Async(r, o)),
        new("SandboxGetFromNameV2", static (c, r, o) => c.SandboxGetFromNameV2Async(r, o)),
        new("SandboxListV2", static (c, r, o) => c.SandboxListV2Async(r, o)))
    {
        ListOfAppOmitsEnvironment = true,
    };
}
