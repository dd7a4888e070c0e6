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

            var sandbox = await SandboxFamily.For(_client).CreateAsync(_client, app, imageId, options, _logger, cancellationToken).ConfigureAwait(false);
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
        var sandboxId = await SandboxFamily.For(_client).FindByNameAsync(_client, request, notFound, cancellationToken).ConfigureAwait(false);
        return new Sandbox(_client, sandboxId, null, null, null);
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
            var response = await SandboxFamily.For(_client).ListPageAsync(_client, appId, tags, before, cancellationToken).ConfigureAwait(false);
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
