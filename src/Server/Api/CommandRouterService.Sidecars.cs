using Grpc.Core;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.Sidecars;

namespace TypedSandbox.Server.Api;

/// <summary>The command router's sidecar RPCs: create (the router path), get, list, wait and terminate.</summary>
internal sealed partial class CommandRouterService
{
    public override async Task<TaskContainerCreateResponse> TaskContainerCreate(TaskContainerCreateRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        IEnumerable<EnvironmentSource> sources =
        [
            .. request.SecretIds.Select(id => new EnvironmentSource.Secret(id)),
            .. SandboxTranslation.ToSources(request.SecretSources),
            new EnvironmentSource.Inline(request.Env),
        ];
        var extras = new SidecarTranslation.Extras(request.VolumeMounts.Count, 0, request.PtyInfo is not null, request.NetworkAccess, Proxy: false, Oidc: false);
        var spec = await SidecarTranslation.ToSpecAsync(request.ContainerName, request.ImageId, request.Args, request.Workdir, sources,
            request.HasMemoryReserveConsumeMib ? request.MemoryReserveConsumeMib : 0, extras, secrets, context.CancellationToken).ConfigureAwait(false);
        var sidecar = await Sidecars(context).CreateAsync(session, spec, context.CancellationToken).ConfigureAwait(false);
        return new TaskContainerCreateResponse { ContainerId = sidecar.Id, ContainerName = sidecar.Name };
    }

    public override Task<TaskContainerGetResponse> TaskContainerGet(TaskContainerGetRequest request, ServerCallContext context)
    {
        var session = Session(request.TaskId, context);
        var sidecar = session.Sidecars.GetByName(session.Id, request.ContainerName, request.IncludeTerminated);
        return Task.FromResult(new TaskContainerGetResponse { Container = SidecarTranslation.ToInfo(sidecar) });
    }

    public override Task<TaskContainerListResponse> TaskContainerList(TaskContainerListRequest request, ServerCallContext context)
    {
        var session = Session(request.TaskId, context);
        var response = new TaskContainerListResponse();
        response.Containers.AddRange(session.Sidecars.List(request.IncludeTerminated).Select(SidecarTranslation.ToInfo));
        return Task.FromResult(response);
    }

    public override async Task<TaskContainerWaitResponse> TaskContainerWait(TaskContainerWaitRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        var result = await Sidecars(context).WaitAsync(session, request.ContainerId, LongPoll.Clamp(request.Timeout), context.CancellationToken).ConfigureAwait(false);
        return result is null ? new TaskContainerWaitResponse() : new TaskContainerWaitResponse { Result = SandboxTranslation.ToResult(result) };
    }

    public override async Task<TaskContainerTerminateResponse> TaskContainerTerminate(TaskContainerTerminateRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        await Sidecars(context).TerminateAsync(session, request.ContainerId, context.CancellationToken).ConfigureAwait(false);
        return new TaskContainerTerminateResponse();
    }

    // Resolved per call rather than through the constructor, which every feature's partial file shares.
    private static SandboxSidecars Sidecars(ServerCallContext context) => context.GetHttpContext().RequestServices.GetRequiredService<SandboxSidecars>();
}
