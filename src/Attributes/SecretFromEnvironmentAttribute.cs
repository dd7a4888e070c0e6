using System;

namespace TypedSandbox;

/// <summary>
/// Copies environment variables of the host process into the sandbox as a secret when the sandbox is created,
/// so values such as API keys never appear in source code.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SecretFromEnvironmentAttribute : Attribute
{
    /// <summary>Copies the host's <paramref name="variables"/>.</summary>
    /// <param name="variables">Environment variable names: a letter or '_' followed by letters, digits or '_'.</param>
    public SecretFromEnvironmentAttribute(params string[] variables)
    {
        Variables = variables;
    }

    /// <summary>The host environment variables copied into the sandbox.</summary>
    public string[] Variables { get; }

    /// <summary>When <see langword="true"/> (the default), creating the sandbox fails if a variable is not set on the host.</summary>
    public bool Required { get; set; } = true;
}
