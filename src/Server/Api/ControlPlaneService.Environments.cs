using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TypedSandbox.Protocol.Client;

namespace TypedSandbox.Server.Api;

/// <summary>The control plane's environments: lookups, creation, deletion (with their objects), listings of them and of their apps.</summary>
internal sealed partial class ControlPlaneService
{
    public override async Task<EnvironmentGetOrCreateResponse> EnvironmentGetOrCreate(EnvironmentGetOrCreateRequest request, ServerCallContext context)
    {
        var environment = await lifecycle.Environments.GetOrCreateAsync(
            request.DeploymentName, request.ObjectCreationType == ObjectCreationType.CreateIfMissing, context.CancellationToken).ConfigureAwait(false);
        return new EnvironmentGetOrCreateResponse
        {
            EnvironmentId = environment.Id,
            Metadata = new EnvironmentMetadata { Name = environment.Name, Settings = new EnvironmentSettings { ImageBuilderVersion = ImageBuilderVersion } },
        };
    }

    public override async Task<Empty> EnvironmentCreate(EnvironmentCreateRequest request, ServerCallContext context)
    {
        await lifecycle.Environments.CreateAsync(request.Name, context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    }

    public override async Task<Empty> EnvironmentDelete(EnvironmentDeleteRequest request, ServerCallContext context)
    {
        await lifecycle.DeleteEnvironmentAsync(request.Name, context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    }

    public override async Task<EnvironmentListResponse> EnvironmentList(Empty request, ServerCallContext context)
    {
        var response = new EnvironmentListResponse();
        response.Items.AddRange((await lifecycle.Environments.ListAsync(context.CancellationToken).ConfigureAwait(false)).Select(e => new EnvironmentListItem
        {
            EnvironmentId = e.Id,
            Name = e.Name,
            CreatedAt = e.CreatedAt.ToUnixTimeMilliseconds() / 1000.0,
            Default = e.IsDefault,
        }));
        return response;
    }

    public override async Task<AppListResponse> AppList(AppListRequest request, ServerCallContext context)
    {
        var environment = await lifecycle.Environments.GetAsync(request.EnvironmentName, context.CancellationToken).ConfigureAwait(false);
        var running = sandboxes.Running().GroupBy(s => s.Spec.AppId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var response = new AppListResponse();
        response.Apps.AddRange((await apps.ListAsync(environment.Name, context.CancellationToken).ConfigureAwait(false)).Select(a => new AppListResponse.Types.AppListItem
        {
            AppId = a.Id,
            Name = a.Name,
            // Apps here are named and live until their environment is deleted: Modal's "deployed".
            State = AppState.Deployed,
            CreatedAt = a.CreatedAt.ToUnixTimeMilliseconds() / 1000.0,
            NRunningTasks = running.GetValueOrDefault(a.Id),
        }));
        return response;
    }
}
