using TypedSandbox.Protocol.Client;

namespace TypedSandbox;

/// <summary>Deleting named secrets.</summary>
public sealed partial class SecretService
{
    /// <summary>Deletes the secret named <paramref name="name"/> (Modal's <c>secrets.delete</c>); sandboxes started with it keep their variables.</summary>
    /// <param name="name">The secret's name.</param>
    /// <param name="allowMissing">Succeed when there is no such secret.</param>
    /// <param name="environment">The environment; defaults to the client's.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">There is no such secret and <paramref name="allowMissing"/> is false.</exception>
    public async Task DeleteAsync(string name, bool allowMissing = false, string? environment = null, CancellationToken cancellationToken = default)
    {
        try
        {
            var secret = await FromNameAsync(name, requiredKeys: null, environment, cancellationToken).ConfigureAwait(false);
            await _client.ControlPlane.CallAsync(
                "SecretDelete", static (c, r, o) => c.SecretDeleteAsync(r, o), new SecretDeleteRequest { SecretId = secret.SecretId ?? "" }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (NotFoundException) when (allowMissing)
        {
            // Already gone: what the caller wanted.
        }
    }
}
