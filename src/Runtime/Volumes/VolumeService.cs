using TypedSandbox.Errors;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Validation;

namespace TypedSandbox;

/// <summary>Looks up and creates persistent volumes (<c>client.Volumes</c>).</summary>
public sealed partial class VolumeService
{
    private readonly SandboxClient _client;

    internal VolumeService(SandboxClient client) => _client = client;

    /// <summary>Returns the volume named <paramref name="name"/>, creating it when asked.</summary>
    /// <param name="name">The volume's name.</param>
    /// <param name="createIfMissing">Create the volume when it does not exist.</param>
    /// <param name="environment">The environment; defaults to the client's.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">The volume does not exist and <paramref name="createIfMissing"/> is false.</exception>
    public async Task<Volume> FromNameAsync(string name, bool createIfMissing = false, string? environment = null,
        CancellationToken cancellationToken = default)
    {
        Rules.Enforce(ObjectNames.Check(name, "Volume name"));
        var response = await _client.ControlPlane.CallAsync(
            "VolumeGetOrCreate",
            static (c, r, o) => c.VolumeGetOrCreateAsync(r, o),
            new VolumeGetOrCreateRequest
            {
                DeploymentName = name,
                EnvironmentName = environment ?? _client.Environment,
                ObjectCreationType = createIfMissing ? ObjectCreationType.CreateIfMissing : ObjectCreationType.Unspecified,
            },
            cancellationToken,
            notFoundMessage: $"Volume '{name}' not found").ConfigureAwait(false);
        return new Volume(response.VolumeId, name);
    }
}
