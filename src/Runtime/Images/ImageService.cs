using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using TypedSandbox.Errors;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Telemetry;
using TypedSandbox.Transport;
using TypedSandbox.Validation;
using GenericStatus = TypedSandbox.Protocol.Client.GenericResult.Types.GenericStatus;
using ProtoImage = TypedSandbox.Protocol.Client.Image;

namespace TypedSandbox;

/// <summary>Defines images and builds them on the server (<c>client.Images</c>).</summary>
public sealed partial class ImageService
{
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(55);

    private readonly SandboxClient _client;
    private readonly ConcurrentDictionary<string, Task<string>> _builderVersions = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    internal ImageService(SandboxClient client)
    {
        _client = client;
        _logger = client.LoggerFactory.CreateLogger("TypedSandbox.Images");
    }

    /// <summary>An image from a container registry, e.g. <c>python:3.13-slim</c>. Nothing is fetched until it is built.</summary>
    /// <param name="reference">The image reference (<c>name[:tag][@digest]</c>, optionally with a registry host).</param>
    /// <exception cref="InvalidArgumentException">The reference is empty or contains whitespace.</exception>
    public Image FromRegistry(string reference)
    {
        Rules.Enforce(ImageReferences.Check(reference));
        return new Image(this, null, reference, null, []);
    }

    /// <summary>A slim Debian image: <c>debian:bookworm-slim</c>, or the official Python image on it when a version is given.</summary>
    /// <param name="pythonVersion">A Python version such as <c>3.13</c>, or null for plain Debian.</param>
    public Image DebianSlim(string? pythonVersion = null)
    {
        if (pythonVersion is null)
        {
            return FromRegistry("debian:bookworm-slim");
        }
        if (pythonVersion.Length == 0 || !pythonVersion.All(c => char.IsAsciiDigit(c) || c == '.'))
        {
            throw new InvalidArgumentException($"Python version '{pythonVersion}' is not valid; expected e.g. '3.13'.");
        }
        return FromRegistry($"python:{pythonVersion}-slim-bookworm");
    }

    /// <summary>An existing image by id (for example a filesystem snapshot).</summary>
    /// <param name="imageId">The image id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">No image has this id.</exception>
    public async Task<Image> FromIdAsync(string imageId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(imageId);
        try
        {
            var response = await _client.ControlPlane.CallAsync(
                "ImageFromId", static (c, r, o) => c.ImageFromIdAsync(r, o), new ImageFromIdRequest { ImageId = imageId },
                cancellationToken, notFoundMessage: $"Image '{imageId}' not found").ConfigureAwait(false);
            return FromBuiltId(response.ImageId);
        }
        catch (ConflictException e) when (e.Message.Contains("Could not find image with ID", StringComparison.Ordinal))
        {
            throw new NotFoundException(e.Message, e);
        }
    }

    internal Image FromBuiltId(string imageId) => new(this, imageId, null, null, []);

    internal async Task<string> BuildAsync(Image image, App app, IProgress<string>? log, CancellationToken cancellationToken)
    {
        var commands = image.RenderDockerfileCommands()
            ?? throw new InvalidOperationException("An image with neither a base nor steps cannot be built.");
        var definition = new ProtoImage();
        definition.DockerfileCommands.Add(commands);
        if (image.BaseImageId is { } baseId)
        {
            definition.BaseImages.Add(new BaseImage { ImageId = baseId, DockerTag = "base" });
        }

        using var activity = Instruments.Source.StartActivity(SandboxTelemetry.ImageBuildActivity, ActivityKind.Client);
        activity?.SetTag(SandboxTelemetry.AppIdTag, app.AppId);
        try
        {
            var builderVersion = await BuilderVersionAsync(app.Environment, cancellationToken).ConfigureAwait(false);
            var response = await _client.ControlPlane.CallAsync(
                "ImageGetOrCreate",
                static (c, r, o) => c.ImageGetOrCreateAsync(r, o),
                new ImageGetOrCreateRequest { AppId = app.AppId, Image = definition, BuilderVersion = builderVersion },
                cancellationToken).ConfigureAwait(false);
            activity?.SetTag(SandboxTelemetry.ImageIdTag, response.ImageId);

            var result = response.Result;
            var cached = result is not null && result.Status != GenericStatus.Unspecified;
            activity?.SetTag(SandboxTelemetry.ImageCachedTag, cached);
            Instruments.ImageBuilds.Add(1, new KeyValuePair<string, object?>(SandboxTelemetry.ImageCachedTag, cached));
            if (!cached)
            {
                Log.ImageBuilding(_logger, response.ImageId);
                result = await JoinBuildAsync(response.ImageId, log, cancellationToken).ConfigureAwait(false);
            }
            EnsureBuilt(response.ImageId, result!);
            return response.ImageId;
        }
        catch (Exception e)
        {
            Instruments.Fail(activity, e);
            throw;
        }
    }

    /// <summary>Follows a running build: streams its logs and returns its result, re-joining where the last stream ended.</summary>
    private async Task<GenericResult> JoinBuildAsync(string imageId, IProgress<string>? log, CancellationToken cancellationToken)
    {
        var lastEntryId = "";
        var failures = 0;
        var lines = new BuildLogLines(line => Log.ImageBuildOutput(_logger, imageId, line));
        var policy = RetryPolicy.CommandRouter;
        while (true)
        {
            var request = new ImageJoinStreamingRequest { ImageId = imageId, Timeout = (float)JoinTimeout.TotalSeconds, LastEntryId = lastEntryId };
            try
            {
                await foreach (var message in _client.ControlPlane.StreamAsync(
                    static (c, r, o) => c.ImageJoinStreaming(r, o), request, cancellationToken).ConfigureAwait(false))
                {
                    failures = 0;
                    foreach (var entry in message.TaskLogs)
                    {
                        if (entry.Data.Length > 0)
                        {
                            log?.Report(entry.Data);
                            lines.Append(entry.Data);
                        }
                    }
                    if (message.EntryId.Length > 0)
                    {
                        lastEntryId = message.EntryId;
                    }
                    if (message.Result is { Status: not GenericStatus.Unspecified } result)
                    {
                        lines.Flush();
                        return result;
                    }
                }
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                if (!RetryPolicy.IsRetryable(e.StatusCode) || failures >= policy.MaxRetries)
                {
                    throw RpcErrorMapper.Map(e, "ImageJoinStreaming");
                }
                failures++;
                await Task.Delay(policy.DelayBefore(failures), _client.Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Modal's build outcome rules.</summary>
    internal static void EnsureBuilt(string imageId, GenericResult result)
    {
        switch (result.Status)
        {
            case GenericStatus.Success:
                return;
            case GenericStatus.Failure or (GenericStatus)8:
                throw new ImageBuildException($"Image build for {imageId} failed with the exception:\n{result.Exception}");
            case GenericStatus.Terminated:
                throw new ImageBuildException($"Image build for {imageId} terminated due to external shut-down. Please try again.");
            case GenericStatus.Timeout:
                throw new ImageBuildException($"Image build for {imageId} timed out. Please try again with a larger timeout parameter.");
            default:
                throw new ImageBuildException(
                    $"Image build for {imageId} failed with unknown status: {(int)result.Status}" +
                    (result.Exception.Length > 0 ? $"\n{result.Exception}" : ""));
        }
    }

    private Task<string> BuilderVersionAsync(string environment, CancellationToken cancellationToken)
    {
        if (_client.Settings.ImageBuilderVersion is { } fixedVersion)
        {
            return Task.FromResult(fixedVersion);
        }
        var task = _builderVersions.GetOrAdd(environment, env => FetchBuilderVersionAsync(env));
        if (task.IsFaulted || task.IsCanceled)
        {
            // A failed lookup is not cached.
            _builderVersions.TryRemove(new KeyValuePair<string, Task<string>>(environment, task));
        }
        return task.WaitAsync(cancellationToken);
    }

    private async Task<string> FetchBuilderVersionAsync(string environment)
    {
        try
        {
            var response = await _client.ControlPlane.CallAsync(
                "EnvironmentGetOrCreate",
                static (c, r, o) => c.EnvironmentGetOrCreateAsync(r, o),
                new EnvironmentGetOrCreateRequest { DeploymentName = environment },
                CancellationToken.None).ConfigureAwait(false);
            return response.Metadata?.Settings?.ImageBuilderVersion ?? "";
        }
        catch
        {
            _builderVersions.TryRemove(environment, out _);
            throw;
        }
    }
}
