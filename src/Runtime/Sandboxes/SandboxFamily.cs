using Microsoft.Extensions.Logging;
using TypedSandbox.Protocol.Client;

namespace TypedSandbox.Sandboxes;

/// <summary>
/// What a protocol family (<see cref="ISandboxProtocol"/>) does before a sandbox handle exists: create a sandbox,
/// find one by name, list a page. The client's settings choose the family here, and only here.
/// </summary>
internal sealed class SandboxFamily
{
    private readonly Func<SandboxClient, App, string, SandboxCreateOptions, ILogger, CancellationToken, Task<Sandbox>> _create;
    private readonly SandboxCalls _calls;
    private readonly SandboxFamily? _olderFamily;

    private SandboxFamily(Func<SandboxClient, App, string, SandboxCreateOptions, ILogger, CancellationToken, Task<Sandbox>> create, SandboxCalls calls,
        SandboxFamily? olderFamily)
    {
        _create = create;
        _calls = calls;
        _olderFamily = olderFamily;
    }

    private static SandboxFamily V1 { get; } = new(V1Protocol.CreateAsync, SandboxCalls.V1, null);

    // Sandboxes created through V1 are found by the V1 lookup only.
    private static SandboxFamily V2 { get; } = new(V2Protocol.CreateAsync, SandboxCalls.V2, V1);

    /// <summary>The family the client creates, finds and lists sandboxes with.</summary>
    public static SandboxFamily For(SandboxClient client) => client.Settings.UseSandboxCreateV2 ? V2 : V1;

    /// <summary>Creates a sandbox running <paramref name="imageId"/>.</summary>
    public Task<Sandbox> CreateAsync(SandboxClient client, App app, string imageId, SandboxCreateOptions options, ILogger logger,
        CancellationToken cancellationToken) => _create(client, app, imageId, options, logger, cancellationToken);

    /// <summary>The id of the running sandbox <paramref name="request"/> names.</summary>
    /// <exception cref="NotFoundException">None has that name (in this family or an older one).</exception>
    public async Task<string> FindByNameAsync(SandboxClient client, SandboxGetFromNameRequest request, string notFoundMessage,
        CancellationToken cancellationToken)
    {
        try
        {
            return (await client.ControlPlane.CallAsync(_calls.GetFromName.Name, _calls.GetFromName.Invoke, request, cancellationToken,
                notFoundMessage: notFoundMessage).ConfigureAwait(false)).SandboxId;
        }
        catch (NotFoundException) when (_olderFamily is not null)
        {
            return await _olderFamily.FindByNameAsync(client, request, notFoundMessage, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One page of running sandboxes, newest first, before <paramref name="before"/> when given.</summary>
    public Task<SandboxListResponse> ListPageAsync(SandboxClient client, string? appId, IReadOnlyDictionary<string, string>? tags, double? before,
        CancellationToken cancellationToken)
    {
        var request = new SandboxListRequest { AppId = appId ?? "" };
        if (before is { } cursor)
        {
            request.BeforeTimestamp = cursor;
        }

        if (appId is null || !_calls.ListOfAppOmitsEnvironment)
        {
            request.EnvironmentName = client.Environment;
        }

        request.Tags.Add(SandboxRequestBuilder.Tags(tags));
        return client.ControlPlane.CallAsync(_calls.List.Name, _calls.List.Invoke, request, cancellationToken);
    }
}
