using System;

namespace TypedSandbox;

/// <summary>The sandbox's main process. Without it the sandbox runs an idle process until its timeout.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class EntrypointAttribute : Attribute
{
    /// <summary>Runs <paramref name="args"/> as the sandbox's main process (no shell).</summary>
    /// <param name="args">The program and its arguments.</param>
    public EntrypointAttribute(params string[] args)
    {
        Args = args;
    }

    /// <summary>The program and its arguments.</summary>
    public string[] Args { get; }
}
