using System.Text;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Network;
using TypedSandbox.Server.Secrets;
using ProxyReplacement = TypedSandbox.Server.Network.HeaderReplacement;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// Turns an outbound policy's header replacements into what the egress proxy sets: <c>$KEY</c> templates resolved
/// from each replacement's named secret, outside the sandbox, so secret values never enter it (as Modal documents).
/// </summary>
internal static class OutboundHeaders
{
    /// <summary>The most header values one policy may set (the SDK's own limit).</summary>
    public const int MaxHeaders = 25;

    /// <summary>Resolves every replacement of <paramref name="policy"/> against the secrets it names.</summary>
    /// <exception cref="EngineException">
    /// A named secret does not exist (NOT_FOUND), or a template names a key the secret lacks, a header is malformed or
    /// there are too many (INVALID_ARGUMENT).
    /// </exception>
    public static async Task<IReadOnlyList<ProxyReplacement>> ResolveAsync(OutboundPolicy policy, SecretStore secrets, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(secrets);
        if (policy.HeaderReplacements.Sum(r => r.Headers.Count) > MaxHeaders)
        {
            throw EngineException.Invalid($"Outbound policy cannot have more than {MaxHeaders} header replacements");
        }

        var resolved = new List<ProxyReplacement>(policy.HeaderReplacements.Count);
        foreach (var replacement in policy.HeaderReplacements)
        {
            if (replacement.Headers.Count == 0)
            {
                throw EngineException.Invalid($"The header replacement for '{replacement.Domain}' must contain at least one header");
            }

            var values = replacement.SecretId is { } id ? await secrets.ResolveAsync(id, ct).ConfigureAwait(false) : null;
            var headers = replacement.Headers.ToDictionary(h => h.Key, h => Expand(h.Value, values, h.Key), StringComparer.Ordinal);
            resolved.Add(ProxyReplacement.Create(replacement.Domain, headers));
        }

        return resolved;
    }

    /// <summary>
    /// The network a sandbox created with <paramref name="replacements"/> runs with: an open one gets an egress proxy
    /// (keeping its domain allow-list, if any) even with no replacements, so a later update has a proxy to change.
    /// </summary>
    /// <exception cref="EngineException">Header replacements were asked of a sandbox without a network (INVALID_ARGUMENT).</exception>
    public static NetworkPolicy WithProxy(NetworkPolicy network, IReadOnlyList<ProxyReplacement> replacements)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(replacements);
        if (network.Mode == NetworkMode.Blocked)
        {
            return replacements.Count == 0 ? network
                : throw EngineException.Invalid("Header replacements need outbound network access; a sandbox created with blockNetwork has none.");
        }

        return network with { Egress = (network.Egress ?? new EgressRules(null, [])) with { HeaderReplacements = replacements } };
    }

    /// <summary>
    /// Expands a header value template: <c>$KEY</c> (a letter or '_' then letters, digits, '_') becomes the secret's
    /// value, <c>$$</c> a literal '$'; any other '$' stays as it is.
    /// </summary>
    /// <exception cref="EngineException">The template names a key the secret lacks, or there is no secret (INVALID_ARGUMENT).</exception>
    public static string Expand(string template, IReadOnlyDictionary<string, string>? secret, string header)
    {
        ArgumentNullException.ThrowIfNull(template);
        var text = new StringBuilder(template.Length);
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c != '$' || i + 1 == template.Length)
            {
                text.Append(c);
                continue;
            }

            if (template[i + 1] == '$')
            {
                text.Append('$');
                i++;
                continue;
            }

            if (!IsKeyStart(template[i + 1]))
            {
                text.Append(c);
                continue;
            }

            var end = i + 2;
            while (end < template.Length && (IsKeyStart(template[end]) || char.IsAsciiDigit(template[end])))
            {
                end++;
            }

            var key = template[(i + 1)..end];
            text.Append(Lookup(secret, key, header));
            i = end - 1;
        }

        return text.ToString();
    }

    private static string Lookup(IReadOnlyDictionary<string, string>? secret, string key, string header)
    {
        if (secret is null)
        {
            throw EngineException.Invalid($"Header value for '{header}' references a secret key (${key}), but the replacement names no secret");
        }

        // Key names only, never values: the message reaches the caller and the logs.
        return secret.TryGetValue(key, out var value) ? value
            : throw EngineException.Invalid(
                $"Header value for '{header}' references ${key}, which its secret does not have; it has {(secret.Count == 0 ? "no keys" : string.Join(", ", secret.Keys.Order(StringComparer.Ordinal)))}.");
    }

    private static bool IsKeyStart(char c) => char.IsAsciiLetter(c) || c == '_';
}
