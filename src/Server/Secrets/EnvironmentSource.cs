using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Secrets;

/// <summary>One layer of environment variables a request asks for: a stored secret, or variables given inline.</summary>
internal abstract record EnvironmentSource
{
    private EnvironmentSource()
    {
    }

    /// <summary>The variables of a stored secret.</summary>
    public sealed record Secret(string SecretId) : EnvironmentSource;

    /// <summary>Variables given in the request (their keys are checked).</summary>
    public sealed record Inline(IEnumerable<KeyValuePair<string, string>> Variables) : EnvironmentSource;

    /// <summary>
    /// The environment the sources make, in order: a later source's variable replaces an earlier one's. Secret
    /// resolution and this precedence live here only (sandbox creates, execs and image builds all come through).
    /// </summary>
    public static async Task<Dictionary<string, string>> ResolveAsync(
        IEnumerable<EnvironmentSource> sources, SecretStore secrets, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            var variables = source switch
            {
                Secret secret => await secrets.ResolveAsync(secret.SecretId, cancellationToken).ConfigureAwait(false),
                Inline inline => inline.Variables,
                _ => [],
            };
            foreach (var (key, value) in variables)
            {
                if (source is Inline)
                {
                    EngineRules.Require(EngineRules.CheckEnvironmentKey(key));
                }

                environment[key] = value;
            }
        }

        return environment;
    }
}
