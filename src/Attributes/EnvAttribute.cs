using System;

namespace TypedSandbox;

/// <summary>Passes a [Command] parameter through the command's environment instead of its arguments; <see langword="null"/> leaves the variable unset.</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class EnvAttribute : Attribute
{
    /// <summary>Declares the variable, for example <c>[Env("API_TOKEN")] string token</c>.</summary>
    /// <param name="name">The environment variable's name.</param>
    public EnvAttribute(string name)
    {
        Name = name;
    }

    /// <summary>The environment variable's name.</summary>
    public string Name { get; }
}
