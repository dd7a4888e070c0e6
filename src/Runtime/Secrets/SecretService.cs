using TypedSandbox.Errors;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Validation;

namespace TypedSandbox;

/// <summary>Looks up named secrets and defines secrets in code (<c>client.Secrets</c>).</summary>
public sealed partial class SecretService
{
    private readonly SandboxClient _client;

    internal SecretService(SandboxClient client) => _client = client;

    /// <summary>A secret whose values are given here; they travel with each request and are never stored on the server.</summary>
    /// <param name="values">Variable names (letters, digits and '_', not starting with a digit) and values.</param>
    /// <exception cref="InvalidArgumentException">A name is not a valid environment variable name.</exception>
#pragma warning disable CA1822 // An instance member so it reads as client.Secrets.FromDictionary, like Modal's SDKs.
    public Secret FromDictionary(IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        foreach (var (key, value) in values)
        {
            Image.EnsureEnvironmentVariableName(key);
            if (value is null)
            {
                throw new InvalidArgumentException($"Secret value for '{key}' must not be null.");
            }
        }
        return Secret.Inline(new Dictionary<string, string>(values, StringComparer.Ordinal));
    }
#pragma warning restore CA1822

    /// <summary>Looks up a named secret.</summary>
    /// <param name="name">The secret's name.</param>
    /// <param name="requiredKeys">Keys the secret must contain.</param>
    /// <param name="environment">The environment; defaults to the client's.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">No such secret, or it lacks a required key.</exception>
    public async Task<Secret> FromNameAsync(string name, IReadOnlyList<string>? requiredKeys = null, string? environment = null,
        CancellationToken cancellationToken = default)
    {
        Rules.Enforce(ObjectNames.Check(name, "Secret name"));
        var request = new SecretGetOrCreateRequest
        {
            DeploymentName = name,
            EnvironmentName = environment ?? _client.Environment,
        };
        if (requiredKeys is not null)
        {
            request.RequiredKeys.Add(requiredKeys);
        }
        try
        {
            var response = await _client.ControlPlane.CallAsync(
                "SecretGetOrCreate", static (c, r, o) => c.SecretGetOrCreateAsync(r, o), request, cancellationToken,
                notFoundMessage: $"Secret '{name}' not found").ConfigureAwait(false);
            return Secret.Named(response.SecretId, name);
        }
        catch (ConflictException e) when (e.Message.Contains("Secret is missing key", StringComparison.Ordinal))
        {
            throw new NotFoundException(e.Message, e);
        }
    }

    /// <summary>Stores in-code values as an ephemeral secret (needed where the protocol only takes secret ids).</summary>
    internal async Task<string> HydrateAsync(IReadOnlyDictionary<string, string> values, string environment, CancellationToken cancellationToken)
    {
        var request = new SecretGetOrCreateRequest
        {
            EnvironmentName = environment,
            ObjectCreationType = ObjectCreationType.Ephemeral,
        };
        foreach (var (key, value) in values)
        {
            request.EnvDict[key] = value;
        }
        try
        {
            var response = await _client.ControlPlane.CallAsync(
                "SecretGetOrCreate", static (c, r, o) => c.SecretGetOrCreateAsync(r, o), request, cancellationToken).ConfigureAwait(false);
            return response.SecretId;
        }
        catch (ConflictException e)
        {
            throw new InvalidArgumentException(e.Message, e);
        }
    }
}
