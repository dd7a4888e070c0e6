using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Apps;
using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Api;

/// <summary>The control plane's sandbox RPCs: create, wait, terminate, lookups, tags, logs, tunnels, filesystem snapshots.</summary>
internal sealed partial class ControlPlaneService
{
    public override async Task<SandboxCreateResponse> SandboxCreate(SandboxCreateRequest request, ServerCallContext context)
    {
        var spec = await SandboxTranslation.ToSpecAsync(
            request.AppId, request.Definition ?? new(), request.Tags, [], secrets, v2: false, context.CancellationToken).ConfigureAwait(false);
        // Modal's V1 create returns before the sandbox runs (the SDK then asks for its task id, and its first exec waits
        // for the start): the client's next round trips overlap the container's start.
        var session = await CreateSandboxAsync(await WithIdentityTokenAsync(spec, request.Definition, context).ConfigureAwait(false), context, background: true)
            .ConfigureAwait(false);
        return new SandboxCreateResponse { SandboxId = session.Id };
    }

    public override async Task<SandboxCreateV2Response> SandboxCreateV2(SandboxCreateV2Request request, ServerCallContext context)
    {
        var spec = await SandboxTranslation.ToSpecAsync(
            request.AppId, request.Definition ?? new(), request.Tags, request.SecretSources, secrets, v2: true, context.CancellationToken).ConfigureAwait(false);
        // Its task id and router access travel inline, so the SDK's next call is its first exec, which waits for the start:
        // that round trip overlaps the container's start. With ports it returns once its tunnels listen (they travel inline
        // too, and the SDK then makes no SandboxGetTunnels call).
        var session = await CreateSandboxAsync(await WithIdentityTokenAsync(spec, request.Definition, context).ConfigureAwait(false), context,
            background: spec.Ports.Count == 0).ConfigureAwait(false);
        var response = new SandboxCreateV2Response
        {
            SandboxId = session.Id,
            TaskId = session.TaskId,
            CommandRouterAccess = new CommandRouterAccess { Jwt = tokens.MintRouterToken(session.TaskId), Url = endpoint.RouterUrl },
        };
        response.Tunnels.AddRange(TunnelTranslation.ToTunnelData(session));
        return response;
    }

    public override Task<SandboxGetTaskIdResponse> SandboxGetTaskId(SandboxGetTaskIdRequest request, ServerCallContext context) =>
        GetTaskIdAsync(request, context);

    public override Task<SandboxGetTaskIdResponse> SandboxGetTaskIdV2(SandboxGetTaskIdRequest request, ServerCallContext context) =>
        GetTaskIdAsync(request, context);

    private async Task<SandboxGetTaskIdResponse> GetTaskIdAsync(SandboxGetTaskIdRequest request, ServerCallContext context)
    {
        // A sandbox has its task from its create (its start may still be under way: whatever needs the container waits
        // for it), and keeps it after it ends (its logs and result stay readable, and a fast entrypoint must not make the
        // V1 create look failed); only one that could not start answers with a result.
        var session = sandboxes.TryGet(request.SandboxId);
        if (session is not null && (session.Result is null || session.Container is not null))
        {
            return new SandboxGetTaskIdResponse { TaskId = session.TaskId };
        }

        var result = session?.Result ?? await sandboxes.Catalog.GetStoredResultAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false);
        var taskResult = result is null ? new GenericResult { Status = GenericResult.Types.GenericStatus.Terminated } : SandboxTranslation.ToResult(result);
        taskResult.Exception = $"Sandbox {request.SandboxId} has already finished" + (result?.Message is { } message ? ": " + message : ".");
        return new SandboxGetTaskIdResponse { TaskResult = taskResult };
    }

    public override Task<TaskGetCommandRouterAccessResponse> TaskGetCommandRouterAccess(TaskGetCommandRouterAccessRequest request, ServerCallContext context)
    {
        var session = sandboxes.Catalog.GetByTaskId(request.TaskId);
        session.RequireNotFinished();
        return Task.FromResult(new TaskGetCommandRouterAccessResponse { Jwt = tokens.MintRouterToken(session.TaskId), Url = endpoint.RouterUrl });
    }

    public override Task<SandboxGetCommandRouterAccessResponse> SandboxGetCommandRouterAccess(
        SandboxGetCommandRouterAccessRequest request, ServerCallContext context)
    {
        var session = request.TargetCase == SandboxGetCommandRouterAccessRequest.TargetOneofCase.TaskId
            ? sandboxes.Catalog.GetByTaskId(request.TaskId)
            : sandboxes.Get(request.SandboxId);
        // A token for a sandbox still starting: the router's calls wait for the start.
        session.RequireNotFinished();
        return Task.FromResult(new SandboxGetCommandRouterAccessResponse { Jwt = tokens.MintRouterToken(session.TaskId), Url = endpoint.RouterUrl });
    }

    public override Task<SandboxWaitResponse> SandboxWait(SandboxWaitRequest request, ServerCallContext context) => WaitAsync(request, context);

    public override Task<SandboxWaitResponse> SandboxWaitV2(SandboxWaitRequest request, ServerCallContext context) => WaitAsync(request, context);

    public override Task<AppFetchLogsResponse> AppFetchLogs(AppFetchLogsRequest request, ServerCallContext context) =>
        Task.FromResult(SandboxLogQueries.Fetch(sandboxes, request, clock.GetUtcNow()));

    public override Task<AppCountLogsResponse> AppCountLogs(AppCountLogsRequest request, ServerCallContext context) =>
        Task.FromResult(SandboxLogQueries.Count(sandboxes, request, clock.GetUtcNow()));

    private async Task<SandboxWaitResponse> WaitAsync(SandboxWaitRequest request, ServerCallContext context)
    {
        var result = await sandboxes.WaitAsync(request.SandboxId, LongPoll.Clamp(request.Timeout), context.CancellationToken).ConfigureAwait(false);
        var appId = await sandboxes.Catalog.GetAppIdAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false);
        var response = new SandboxWaitResponse { Metadata = new SandboxHandleMetadata { AppId = appId } };
        if (result is not null)
        {
            response.Result = SandboxTranslation.ToResult(result);
        }

        return response;
    }

    public override Task<SandboxTerminateResponse> SandboxTerminate(SandboxTerminateRequest request, ServerCallContext context) =>
        TerminateAsync(request, context);

    public override Task<SandboxTerminateResponse> SandboxTerminateV2(SandboxTerminateRequest request, ServerCallContext context) =>
        TerminateAsync(request, context);

    private async Task<SandboxTerminateResponse> TerminateAsync(SandboxTerminateRequest request, ServerCallContext context)
    {
        var result = await sandboxes.TerminateAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false);
        return new SandboxTerminateResponse { ExistingResult = SandboxTranslation.ToResult(result) };
    }

    public override Task<SandboxGetFromNameResponse> SandboxGetFromName(SandboxGetFromNameRequest request, ServerCallContext context) =>
        GetFromNameAsync(request, context);

    public override Task<SandboxGetFromNameResponse> SandboxGetFromNameV2(SandboxGetFromNameRequest request, ServerCallContext context) =>
        GetFromNameAsync(request, context);

    private async Task<SandboxGetFromNameResponse> GetFromNameAsync(SandboxGetFromNameRequest request, ServerCallContext context)
    {
        var notFound = EngineException.NotFound($"Sandbox with name '{request.SandboxName}' not found in App '{request.AppName}'");
        AppRecord app;
        try
        {
            app = await apps.GetOrCreateAsync(request.EnvironmentName, request.AppName, createIfMissing: false, context.CancellationToken).ConfigureAwait(false);
        }
        catch (EngineException e) when (e.Kind == EngineErrorKind.NotFound)
        {
            throw notFound;
        }

        var id = sandboxes.Catalog.FindRunningByName(app.Id, request.SandboxName)?.Id
            ?? (request.IncludeTerminated
                ? await sandboxes.Catalog.FindNewestByNameAsync(app.Id, request.SandboxName, context.CancellationToken).ConfigureAwait(false)
                : null);
        return id is null ? throw notFound : new SandboxGetFromNameResponse { SandboxId = id, Metadata = new SandboxHandleMetadata { AppId = app.Id } };
    }

    public override Task<SandboxListResponse> SandboxList(SandboxListRequest request, ServerCallContext context) => ListAsync(request, context);

    public override Task<SandboxListResponse> SandboxListV2(SandboxListRequest request, ServerCallContext context) => ListAsync(request, context);

    private async Task<SandboxListResponse> ListAsync(SandboxListRequest request, ServerCallContext context)
    {
        // Creation times are whole milliseconds: round, so the cursor the SDK echoes back is the exact time it was given.
        DateTimeOffset? before = request.BeforeTimestamp > 0 ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(request.BeforeTimestamp * 1000)) : null;
        var rows = await sandboxes.Catalog.ListAsync(
                request.AppId, SandboxTranslation.ToMap(request.Tags), before, request.IncludeFinished, options.SandboxListPageSize, context.CancellationToken)
            .ConfigureAwait(false);
        var response = new SandboxListResponse();
        foreach (var row in rows)
        {
            var info = new SandboxInfo { Id = row.Id, AppId = row.AppId, CreatedAt = row.CreatedAt, Name = row.Name ?? "", ImageId = row.ImageId };
            info.Tags.AddRange(SandboxTranslation.ToTags(row.Tags));
            response.Sandboxes.Add(info);
        }

        return response;
    }

    public override Task<Empty> SandboxTagsSet(SandboxTagsSetRequest request, ServerCallContext context) => SetTagsAsync(request, context);

    public override Task<Empty> SandboxTagsSetV2(SandboxTagsSetRequest request, ServerCallContext context) => SetTagsAsync(request, context);

    private async Task<Empty> SetTagsAsync(SandboxTagsSetRequest request, ServerCallContext context)
    {
        await sandboxes.Catalog.SetTagsAsync(request.SandboxId, SandboxTranslation.ToMap(request.Tags), context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    }

    public override Task<SandboxTagsGetResponse> SandboxTagsGet(SandboxTagsGetRequest request, ServerCallContext context) => GetTagsAsync(request, context);

    public override Task<SandboxTagsGetResponse> SandboxTagsGetV2(SandboxTagsGetRequest request, ServerCallContext context) => GetTagsAsync(request, context);

    private async Task<SandboxTagsGetResponse> GetTagsAsync(SandboxTagsGetRequest request, ServerCallContext context)
    {
        var response = new SandboxTagsGetResponse();
        response.Tags.AddRange(SandboxTranslation.ToTags(await sandboxes.Catalog.GetTagsAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false)));
        return response;
    }

    public override async Task SandboxGetLogs(SandboxGetLogsRequest request, IServerStreamWriter<TaskLogsBatch> responseStream, ServerCallContext context)
    {
        var session = await sandboxes.GetStartedAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false);
        var stderr = request.FileDescriptor == FileDescriptor.Stderr;
        var offset = long.TryParse(request.LastEntryId, NumberStyles.None, CultureInfo.InvariantCulture, out var cursor) ? cursor : 0;
        using var budget = LongPoll.Budget(request.Timeout, context.CancellationToken);
        try
        {
            await foreach (var chunk in EntrypointOutput.ReadTextAsync(session, stderr, offset, budget.Token).ConfigureAwait(false))
            {
                // The SDK takes the cursor from every batch, so each one carries it.
                var batch = new TaskLogsBatch { TaskId = session.TaskId, EntryId = chunk.NextOffset.ToString(CultureInfo.InvariantCulture), Eof = chunk.Eof };
                if (chunk.Text.Length > 0)
                {
                    batch.Items.Add(new TaskLogs
                    {
                        Data = chunk.Text,
                        FileDescriptor = stderr ? FileDescriptor.Stderr : FileDescriptor.Stdout,
                        TimestampNs = (ulong)clock.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000,
                    });
                }

                await responseStream.WriteAsync(batch, context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            // Long-poll budget spent: the client re-opens with its cursor.
        }
    }

    public override async Task<SandboxStdinWriteResponse> SandboxStdinWrite(SandboxStdinWriteRequest request, ServerCallContext context)
    {
        var session = await sandboxes.GetStartedAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false);
        EntrypointOutput.RequireEntrypoint(session);
        if (session.ClaimStdinIndex(request.Index, request.Input.Length) is { } offset)
        {
            await sandboxes.WriteEntrypointStdinAsync(session, offset, request.Input.Memory, request.Eof, context.CancellationToken).ConfigureAwait(false);
        }

        return new SandboxStdinWriteResponse();
    }

    public override Task<SandboxGetTunnelsResponse> SandboxGetTunnels(SandboxGetTunnelsRequest request, ServerCallContext context) =>
        GetTunnelsAsync(request, context);

    public override Task<SandboxGetTunnelsResponse> SandboxGetTunnelsV2(SandboxGetTunnelsRequest request, ServerCallContext context) =>
        GetTunnelsAsync(request, context);

    private async Task<SandboxGetTunnelsResponse> GetTunnelsAsync(SandboxGetTunnelsRequest request, ServerCallContext context)
    {
        var session = await sandboxes.GetStartedAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false);
        session.RequireRunning();
        var response = new SandboxGetTunnelsResponse();
        response.Tunnels.AddRange(TunnelTranslation.ToTunnelData(session));
        return response;
    }

    public override async Task<SandboxSnapshotFsResponse> SandboxSnapshotFs(SandboxSnapshotFsRequest request, ServerCallContext context)
    {
        var session = await sandboxes.GetStartedAsync(request.SandboxId, context.CancellationToken).ConfigureAwait(false);
        var imageId = await snapshots.SnapshotAsync(session, snapshotId: null, context.CancellationToken).ConfigureAwait(false);
        return new SandboxSnapshotFsResponse { ImageId = imageId, Result = new GenericResult { Status = GenericResult.Types.GenericStatus.Success } };
    }

    public override Task<ContainerFilesystemExecResponse> ContainerFilesystemExec(ContainerFilesystemExecRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented,
            "The legacy file API (sb.open) is not supported by the local engine; use the filesystem API (sb.filesystem), which runs over the command router."));
}
