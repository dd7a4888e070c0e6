namespace TypedSandbox;

/// <summary>An environment: the namespace of apps, volumes, secrets and published images (Modal's <c>Environment</c>).</summary>
public sealed class EnvironmentInfo
{
    internal EnvironmentInfo(string environmentId, string name, bool isDefault)
    {
        EnvironmentId = environmentId;
        Name = name;
        IsDefault = isDefault;
    }

    /// <summary>The environment's id (<c>en-…</c>).</summary>
    public string EnvironmentId { get; }

    /// <summary>The environment's name; the default one is <c>main</c>.</summary>
    public string Name { get; }

    /// <summary>True for the default environment, used when a call names none.</summary>
    public bool IsDefault { get; }

    /// <inheritdoc/>
    public override string ToString() => $"Environment {Name} ({EnvironmentId})";
}
