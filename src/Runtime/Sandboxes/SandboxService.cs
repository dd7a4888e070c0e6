using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using TypedSandbox.Errors;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Sandboxes;
using TypedSandbox.Telemetry;
using TypedSandbox.Validation;

namespace TypedSandbox;

/// <summary>Creates, finds and lists sandboxes (<c>client.Sandboxes</c>).</summary>
public sealed partial class SandboxService
{
    private readonly SandboxClient _client;
    private readonly ILogger _logger;

    internal SandboxService(SandboxClient client)
    {
        _client = client;
        _logger = client.LoggerFactory.CreateLogger("TypedSandbox.Sandboxes");
    }

    /// <summary>Creates a sandbox running <paramref name="image"/> in <paramref name="app"/>, building the image first if needed.</summary>
    /// <param name="app">The app the sandbox belongs to.</param>
    /// <param name="image">The image to run.</param>
    /// <param name="options">Command, limits, mounts, network and the rest; defaults apply when null.</param>
    /// <param name="cancellationToken">Cancels the build and the create call.</param>
    /// <returns>A handle that terminates the sandbox when disposed.</returns>
    /// <exception cref="InvalidArgumentException">An option is not valid.</exception>
    /// <exception cref="AlreadyExistsException">A running sandbox of the app already has <see cref="SandboxCreateOptions.Name"/>.</exception>
    /// <exception cref="ImageBuildException">The image could not be built.</exception>
    public async Task<Sandbox> CreateAsync(App app, Image image, SandboxCreateOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(image);
        options ??= new SandboxCreateOptions();
        SandboxOptionRules.Validate(options);

        using var activity = Instruments.Source.StartActivity(SandboxTelemetry.CreateActivity, ActivityKind.Client);
        activity?.SetTag(SandboxTelemetry.AppIdTag, app.AppId);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await image.BuildAsync(app, options.BuildLog, cancellationToken).ConfigureAwait(false);
            var imageId = image.ImageId!;
            activity?.SetTag(SandboxTelemetry.ImageIdTag, imageId);

            var sandbox = _client.Settings.UseSandboxCreateV2
                ? await V2Protocol.CreateAsync(_client, app, imageId, options, _logger, cancellationToken).ConfigureAwait(false)
                : await V1Protocol.CreateAsync(_client, app, imageId, options, _logger, cancellationToken).ConfigureAwait(false);
            activity?.SetTag(SandboxTelemetry.SandboxIdTag, sandbox.SandboxId);
            Instruments.Creates.Add(1);
            Instruments.CreateDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            return sandbox;
        }
        catch (Exception e)
        {
            Instruments.Fail(activity, e);
            var failed = new KeyValuePair<string, object?>(SandboxTelemetry.ErrorTypeTag, e.GetType().Name);
            Instruments.Creates.Add(1, failed);
            Instruments.CreateDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, failed);
            throw;
        }
    }

    /// <summary>A handle to an existing sandbox, checked to exist.</summary>
    /// <param name="sandboxId">The sandbox id.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <exception cref="NotFoundException">No sandbox has this id.</exception>
    public async Task<Sandbox> FromIdAsync(string sandboxId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sandboxId);
        var sandbox = new Sandbox(_client, sandboxId, null, null, null);
        await sandbox.PollAsync(cancellationToken).ConfigureAwait(false);
        return sandbox;
    }

    /// <summary>Finds a running sandbox by the name it was created with.</summary>
    /// <param name="appName">The app's name.</param>
    /// <param name="name">The sandbox's name.</param>
    /// <param name="environment">The environment; defaults to the client's.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">No running sandbox of that app has this name.</exception>
    public async Task<Sandbox> FromNameAsync(string appName, string name, string? environment = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(appName);
        Rules.Enforce(ObjectNames.Check(name, "Sandbox name"));
        var request = new SandboxGetFromNameRequest
        {
            SandboxName = name,
            AppName = appName,
            EnvironmentName = environment ?? _client.Environment,
        };
        var notFound = $"Sandbox with name '{name}' not found in App '{appName}'";
        SandboxGetFromNameResponse response;
        if (_client.Settings.UseSandboxCreateV2)
        {
            try
            {
                response = await _client.ControlPlane.CallAsync(
                    "SandboxGetFromNameV2", static (c, r, o) => c.SandboxGetFromNameV2Async(r, o), request, cancellationToken,
                    notFoundMessage: notFound).ConfigureAwait(false);
                return new Sandbox(_client, response.SandboxId, null, null, null);
            }
            catch (NotFoundException)
            {
                // Sandboxes created through V1 are found by the V1 lookup.
            }
        }
        response = await _client.ControlPlane.CallAsync(
            "SandboxGetFromName", static (c, r, o) => c.SandboxGetFromNameAsync(r, o), request, cancellationToken,
            notFoundMessage: notFound).ConfigureAwait(false);
        return new Sandbox(_client, response.SandboxId, null, null, null);
    }

    /// <summary>Lists running sandboxes, newest first, optionally of one app and carrying all the given tags.</summary>
    /// <param name="appId">Only sandboxes of this app; all apps of the client's environment when null.</param>
    /// <param name="tags">Only sandboxes that carry every one of these tags.</param>
    /// <param name="cancellationToken">Stops the enumeration.</param>
    public async IAsyncEnumerable<Sandbox> ListAsync(string? appId = null, IReadOnlyDictionary<string, string>? tags = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        double? before = null;
        while (true)
        {
            var request = new SandboxListRequest { AppId = appId ?? "" };
            if (before is { } cursor)
            {
                request.BeforeTimestamp = cursor;
            }
            if (appId is null || !_client.Settings.UseSandboxCreateV2)
            {
                request.EnvironmentName = _client.Environment;
            }
            request.Tags.Add(SandboxRequestBuilder.Tags(tags));
            var response = _client.Settings.UseSandboxCreateV2
                ? await _client.ControlPlane.CallAsync("SandboxListV2", static (c, r, o) => c.SandboxListV2Async(r, o), request, cancellationToken).ConfigureAwait(false)
                : await _client.ControlPlane.CallAsync("SandboxList", static (c, r, o) => c.SandboxListAsync(r, o), request, cancellationToken).ConfigureAwait(false);
            if (response.Sandboxes.Count == 0)
            {
                yield break;
            }
            foreach (var info in response.Sandboxes)
            {
                yield return new Sandbox(_client, info.Id, null, null, null);
            }
            var last = response.Sandboxes[^1].CreatedAt;
            if (before is { } previous && last >= previous)
            {
                // A server that does not page strictly would make this loop forever.
                yield break;
            }
            before = last;
        }
    }
}
