using Google.Protobuf.WellKnownTypes;
using TypedSandbox.Protocol.Client;

namespace TypedSandbox;

/// <summary>Creates, lists and deletes environments (<c>client.Environments</c>, Modal's <c>client.environments</c>).</summary>
public sealed class EnvironmentService
{
    private const string DefaultName = "main";

    private readonly SandboxClient _client;

    internal EnvironmentService(SandboxClient client) => _client = client;

    /// <summary>Returns the environment named <paramref name="name"/>, creating it when asked.</summary>
    /// <param name="name">The environment's name.</param>
    /// <param name="createIfMissing">Create the environment when it does not exist.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">There is no such environment and <paramref name="createIfMissing"/> is false.</exception>
    /// <exception cref="InvalidArgumentException">The name is not a valid environment name.</exception>
    public async Task<EnvironmentInfo> FromNameAsync(string name, bool createIfMissing = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var response = await _client.ControlPlane.CallAsync(
            "EnvironmentGetOrCreate",
            static (c, r, o) => c.EnvironmentGetOrCreateAsync(r, o),
            new EnvironmentGetOrCreateRequest
            {
                DeploymentName = name,
                ObjectCreationType = createIfMissing ? ObjectCreationType.CreateIfMissing : ObjectCreationType.Unspecified,
            },
            cancellationToken).ConfigureAwait(false);
        var actual = response.Metadata?.Name is { Length: > 0 } n ? n : name;
        return new EnvironmentInfo(response.EnvironmentId, actual, actual == DefaultName);
    }

    /// <summary>Creates an environment.</summary>
    /// <param name="name">1-64 letters, digits, '-' and '_', starting with a letter or digit, not starting with <c>en-</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="AlreadyExistsException">An environment of that name exists.</exception>
    /// <exception cref="InvalidArgumentException">The name is not a valid environment name.</exception>
    public async Task CreateAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await _client.ControlPlane.CallAsync(
            "EnvironmentCreate", static (c, r, o) => c.EnvironmentCreateAsync(r, o), new EnvironmentCreateRequest { Name = name }, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Every environment, the default one first.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<EnvironmentInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var response = await _client.ControlPlane.CallAsync(
            "EnvironmentList", static (c, r, o) => c.EnvironmentListAsync(r, o), new Empty(), cancellationToken).ConfigureAwait(false);
        return [.. response.Items.Select(i => new EnvironmentInfo(i.EnvironmentId, i.Name, i.Default))];
    }

    /// <summary>
    /// Deletes an environment and everything in it (Modal's <c>environments.objects.delete</c>): its running sandboxes
    /// are terminated, its apps, volumes (with their files), secrets and published image names removed.
    /// </summary>
    /// <param name="name">The environment's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">There is no such environment.</exception>
    /// <exception cref="ConflictException">The environment is the default one, which cannot be deleted.</exception>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await _client.ControlPlane.CallAsync(
            "EnvironmentDelete", static (c, r, o) => c.EnvironmentDeleteAsync(r, o), new EnvironmentDeleteRequest { Name = name }, cancellationToken)
            .ConfigureAwait(false);
    }
}
