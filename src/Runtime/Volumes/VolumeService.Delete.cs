using TypedSandbox.Protocol.Client;

namespace TypedSandbox;

/// <summary>Deleting named volumes.</summary>
public sealed partial class VolumeService
{
    /// <summary>
    /// Deletes the volume named <paramref name="name"/> and its files (Modal's <c>volumes.delete</c>). The engine
    /// refuses while a running sandbox mounts it.
    /// </summary>
    /// <param name="name">The volume's name.</param>
    /// <param name="allowMissing">Succeed when there is no such volume.</param>
    /// <param name="environment">The environment; defaults to the client's.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">There is no such volume and <paramref name="allowMissing"/> is false.</exception>
    /// <exception cref="ConflictException">A running sandbox mounts the volume.</exception>
    public async Task DeleteAsync(string name, bool allowMissing = false, string? environment = null, CancellationToken cancellationToken = default)
    {
        try
        {
            var volume = await FromNameAsync(name, createIfMissing: false, environment, cancellationToken).ConfigureAwait(false);
            await _client.ControlPlane.CallAsync(
                "VolumeDelete",
                static (c, r, o) => c.VolumeDeleteAsync(r, o),
                new VolumeDeleteRequest { VolumeId = volume.VolumeId, EnvironmentName = environment ?? _client.Environment },
                cancellationToken).ConfigureAwait(false);
        }
        catch (NotFoundException) when (allowMissing)
        {
            // Already gone: what the caller wanted.
        }
    }
}
