namespace TypedSandbox.Dsl;

/// <summary>What <c>[SecretFromEnvironment]</c> declares: host environment variables copied into the sandbox.</summary>
/// <param name="Variables">The variable names.</param>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed record EnvironmentSecret(IReadOnlyList<string> Variables)
{
    /// <summary>When <see langword="true"/>, a variable missing on the host fails the creation; otherwise it is skipped.</summary>
    public bool Required { get; init; } = true;

    /// <summary>Reads the variables from this process's environment.</summary>
    /// <exception cref="SandboxConfigurationException">A required variable is not set.</exception>
    internal Dictionary<string, string> ReadHost()
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in Variables)
        {
            var value = Environment.GetEnvironmentVariable(name);
            if (value is not null)
            {
                values[name] = value;
            }
            else if (Required)
            {
                throw new SandboxConfigurationException($"Environment variable '{name}' is not set on this machine; set it, or mark the [SecretFromEnvironment] as Required = false");
            }
        }

        return values;
    }
}
