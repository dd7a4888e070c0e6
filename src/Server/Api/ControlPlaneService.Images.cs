using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Secrets;

namespace TypedSandbox.Server.Api;

/// <summary>The control plane's image RPCs: builds, their log stream, lookups by id and by published name, deletion.</summary>
internal sealed partial class ControlPlaneService
{
    public override async Task<ImageGetOrCreateResponse> ImageGetOrCreate(ImageGetOrCreateRequest request, ServerCallContext context)
    {
        var commands = BaseImageReferences.Resolve(
            request.Image?.DockerfileCommands ?? [], (request.Image?.BaseImages ?? []).Select(b => (b.DockerTag, b.ImageId)));

        // The image's secrets (and the SDKs' per-layer env, sent as a secret) are environment for its RUN steps.
        var buildSecrets = await EnvironmentSource.ResolveAsync(
            (request.Image?.SecretIds ?? []).Select(id => new EnvironmentSource.Secret(id)), secrets, context.CancellationToken).ConfigureAwait(false);

        var job = images.Start(commands, request.ForceBuild, buildSecrets);
        var response = new ImageGetOrCreateResponse { ImageId = job.ImageId };
        if (job.Completion.IsCompleted)
        {
            response.Result = ToResult(job);
        }

        return response;
    }

    public override async Task ImageJoinStreaming(
        ImageJoinStreamingRequest request, IServerStreamWriter<ImageJoinStreamingResponse> responseStream, ServerCallContext context)
    {
        var job = images.Find(request.ImageId) ?? throw EngineException.NotFound($"Could not find image with ID {request.ImageId}");
        var next = long.TryParse(request.LastEntryId, NumberStyles.None, CultureInfo.InvariantCulture, out var last) ? last + 1 : 0;
        using var budget = LongPoll.Budget(request.Timeout, context.CancellationToken);
        try
        {
            while (true)
            {
                var done = job.Completion.IsCompleted;
                var (lines, following, changed) = job.Read(next);
                if (lines.Count > 0)
                {
                    var message = new ImageJoinStreamingResponse { EntryId = (following - 1).ToString(CultureInfo.InvariantCulture) };
                    message.TaskLogs.AddRange(lines.Select(line => new TaskLogs { Data = line + "\n", FileDescriptor = FileDescriptor.Stdout }));
                    next = following;
                    await responseStream.WriteAsync(message, context.CancellationToken).ConfigureAwait(false);
                }

                if (done)
                {
                    await responseStream.WriteAsync(new ImageJoinStreamingResponse { Result = ToResult(job), Eof = true }, context.CancellationToken).ConfigureAwait(false);
                    return;
                }

                await changed.WaitAsync(budget.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            // Long-poll budget spent: end the stream; the client re-opens it from its last entry id.
        }
    }

    public override Task<ImageFromIdResponse> ImageFromId(ImageFromIdRequest request, ServerCallContext context) =>
        Task.FromResult(new ImageFromIdResponse { ImageId = RequireBuilt(request.ImageId) });

    public override async Task<ImagePublishResponse> ImagePublish(ImagePublishRequest request, ServerCallContext context)
    {
        var environment = await lifecycle.Environments.GetAsync(request.EnvironmentName, context.CancellationToken).ConfigureAwait(false);
        var imageId = RequireBuilt(request.ImageId);
        await lifecycle.ImageTags.PublishAsync(environment.Name, request.Tag, imageId, context.CancellationToken).ConfigureAwait(false);
        return new ImagePublishResponse { ImageId = imageId };
    }

    public override async Task<ImageGetByTagResponse> ImageGetByTag(ImageGetByTagRequest request, ServerCallContext context)
    {
        var environment = await lifecycle.Environments.GetAsync(request.EnvironmentName, context.CancellationToken).ConfigureAwait(false);
        var imageId = await lifecycle.ImageTags.ResolveAsync(environment.Name, request.Tag, context.CancellationToken).ConfigureAwait(false);
        return new ImageGetByTagResponse { ImageId = RequireBuilt(imageId) };
    }

    public override async Task<Empty> ImageDelete(ImageDeleteRequest request, ServerCallContext context)
    {
        await lifecycle.DeleteImageAsync(request.ImageId, context.CancellationToken).ConfigureAwait(false);
        // Sandboxes the warm pool started ahead from it would otherwise keep its layers mounted and serve it on.
        sandboxes.Pool.Forget(request.ImageId);
        return new Empty();
    }

    /// <summary>The id of a successfully built image; NOT_FOUND otherwise (Modal's wording, which the SDKs match).</summary>
    private string RequireBuilt(string imageId) =>
        images.Find(imageId) is { Status: ImageBuildStatus.Succeeded } job
            ? job.ImageId
            : throw EngineException.NotFound($"Could not find image with ID {imageId}");

    private static GenericResult ToResult(ImageBuildJob job) => job.Status switch
    {
        ImageBuildStatus.Succeeded => new GenericResult { Status = GenericResult.Types.GenericStatus.Success },
        ImageBuildStatus.Terminated => new GenericResult { Status = GenericResult.Types.GenericStatus.Terminated, Exception = job.Error ?? "" },
        ImageBuildStatus.Failed => new GenericResult { Status = GenericResult.Types.GenericStatus.Failure, Exception = job.Error ?? "" },
        _ => new GenericResult(),
    };
}
