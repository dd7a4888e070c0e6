using System.ComponentModel;

namespace TypedSandbox.Dsl;

/// <summary>How a [Command] parameter reaches the command.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum CommandParameterKind
{
    /// <summary>Fills the <c>{name}</c> placeholders of the command line.</summary>
    Placeholder,

    /// <summary>An option appended after the command line (<c>[Option]</c>).</summary>
    Option,

    /// <summary>Written to the command's stdin (<c>[Stdin]</c>).</summary>
    Stdin,

    /// <summary>An environment variable of the command (<c>[Env]</c>).</summary>
    Env,
}

/// <summary>A parameter of a [Command] method as generated code describes it to <see cref="CommandDefinition"/>.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Kind">How its value reaches the command.</param>
/// <param name="Key">The option's or the environment variable's name; <see langword="null"/> for the other kinds.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record CommandParameter(string Name, CommandParameterKind Kind, string? Key = null)
{
    /// <summary>A parameter that fills placeholders.</summary>
    public static CommandParameter Placeholder(string name) => new(name, CommandParameterKind.Placeholder);

    /// <summary>An <c>[Option(key)]</c> parameter.</summary>
    public static CommandParameter Option(string name, string key) => new(name, CommandParameterKind.Option, key);

    /// <summary>A <c>[Stdin]</c> parameter.</summary>
    public static CommandParameter Stdin(string name) => new(name, CommandParameterKind.Stdin);

    /// <summary>An <c>[Env(key)]</c> parameter.</summary>
    public static CommandParameter Env(string name, string key) => new(name, CommandParameterKind.Env, key);
}
