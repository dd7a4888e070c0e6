namespace TypedSandbox;

/// <summary>A set of environment variables injected into a sandbox or a process: a named secret on the server or
/// values given in code (sent with the request, never stored on the server).</summary>
public sealed class Secret
{
    private Secret(string? id, string? name, IReadOnlyDictionary<string, string>? values)
    {
        SecretId = id;
        Name = name;
        Values = values;
    }

    /// <summary>The server id of a named secret; null for in-code values.</summary>
    public string? SecretId { get; }

    /// <summary>The name the secret was looked up by, if any.</summary>
    public string? Name { get; }

    internal IReadOnlyDictionary<string, string>? Values { get; }

    internal static Secret Named(string id, string name) => new(id, name, null);

    internal static Secret Inline(IReadOnlyDictionary<string, string> values) => new(null, null, values);

    /// <inheritdoc/>
    public override string ToString() => SecretId is null ? $"Secret ({Values?.Count ?? 0} values)" : $"Secret {Name} ({SecretId})";
}
