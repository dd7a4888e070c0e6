using System;

namespace TypedSandbox;

/// <summary>
/// Makes a [Command] parameter an option appended after the command's arguments, in parameter order: a value
/// appends the option's name and the value (<c>-k</c>, <c>value</c>), a name ending in <c>=</c> joins them
/// (<c>--maxfail=3</c>), <see langword="true"/> appends the name alone, <see langword="null"/> and
/// <see langword="false"/> append nothing, and a collection repeats the option once per element.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class OptionAttribute : Attribute
{
    /// <summary>Declares the option, for example <c>[Option("-k")] string? filter = null</c>.</summary>
    /// <param name="name">The option as the program expects it: <c>-k</c>, <c>--verbose</c>, <c>--maxfail=</c>.</param>
    public OptionAttribute(string name)
    {
        Name = name;
    }

    /// <summary>The option's name.</summary>
    public string Name { get; }
}
