using System;

namespace TypedSandbox;

/// <summary>Injects a named secret's keys into the sandbox's environment.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SecretAttribute : Attribute
{
    /// <summary>Injects the secret called <paramref name="name"/>.</summary>
    /// <param name="name">The secret's name: letters, digits, '-', '_' and '.', at most 63 characters.</param>
    public SecretAttribute(string name)
    {
        Name = name;
    }

    /// <summary>The secret's name.</summary>
    public string Name { get; }
}
