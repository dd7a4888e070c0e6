using TypedSandbox.Errors;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Validation;

namespace TypedSandbox;

/// <summary>Looks up and creates apps (<c>client.Apps</c>).</summary>
public sealed class AppService
{
    private readonly SandboxClient _client;

    internal AppService(SandboxClient client) => _client = client;

    /// <summary>Returns the app named <paramref name="name"/>, creating it when asked.</summary>
    /// <param name="name">The app's name.</param>
    /// <param name="createIfMissing">Create the app when it does not exist.</param>
    /// <param name="environment">The environment; defaults to the client's.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">The app does not exist and <paramref name="createIfMissing"/> is false.</exception>
    public async Task<App> FromNameAsync(string name, bool createIfMissing = false, string? environment = null,
        CancellationToken cancellationToken = default)
    {
        Rules.Enforce(ObjectNames.Check(name, "App name"));
        var env = environment ?? _client.Environment;
        var response = await _client.ControlPlane.CallAsync(
            "AppGetOrCreate",
            static (c, r, o) => c.AppGetOrCreateAsync(r, o),
            new AppGetOrCreateRequest
            {
                AppName = name,
                EnvironmentName = env,
                ObjectCreationType = createIfMissing ? ObjectCreationType.CreateIfMissing : ObjectCreationType.Unspecified,
            },
            cancellationToken,
            notFoundMessage: $"App '{name}' not found").ConfigureAwait(false);
        return new App(response.AppId, name, env);
    }
}
