using System;
using System.Collections.Generic;
using System.Text;

namespace TypedSandbox.Validation;

/// <summary>
/// A command line with <c>{parameter}</c> placeholders. Each argument stays one argument: a value replaces its
/// placeholder inside that argument and is never split, quoted or passed through a shell. <c>{{</c> and <c>}}</c>
/// are literal braces.
/// </summary>
internal sealed class CommandTemplate
{
    private readonly IReadOnlyList<IReadOnlyList<Segment>> _arguments;

    private CommandTemplate(IReadOnlyList<IReadOnlyList<Segment>> arguments, IReadOnlyList<string> placeholders)
    {
        _arguments = arguments;
        Placeholders = placeholders;
    }

    /// <summary>The distinct placeholder names, in order of first appearance.</summary>
    public IReadOnlyList<string> Placeholders { get; }

    /// <summary>Parses a command line.</summary>
    /// <param name="args">The program and its arguments.</param>
    /// <param name="template">The parsed template, when valid.</param>
    /// <param name="error">What is wrong and what is allowed, when invalid.</param>
    /// <param name="errorIndex">The index of the faulty argument, or -1 when the whole command is at fault.</param>
    /// <returns>Whether the command line is valid.</returns>
    public static bool TryParse(IReadOnlyList<string?>? args, out CommandTemplate? template, out string? error, out int errorIndex)
    {
        template = null;
        error = null;
        errorIndex = -1;
        if (args is null || args.Count == 0)
        {
            error = "Command has no program; give the program and its arguments, such as [Command(\"pytest\", \"-q\", \"{path}\")]";
            return false;
        }

        var parsed = new List<IReadOnlyList<Segment>>(args.Count);
        var names = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var segments = ParseArgument(args[i], out error);
            if (segments is null)
            {
                errorIndex = i;
                return false;
            }

            foreach (var segment in segments)
            {
                if (segment.IsPlaceholder && !names.Contains(segment.Text))
                {
                    names.Add(segment.Text);
                }
            }

            parsed.Add(segments);
        }

        template = new CommandTemplate(parsed, names);
        return true;
    }

    /// <summary>Parses a command line, throwing <see cref="ArgumentException"/> when it is malformed.</summary>
    public static CommandTemplate Parse(IReadOnlyList<string?> args) =>
        TryParse(args, out var template, out var error, out _) ? template! : throw new ArgumentException(error, nameof(args));

    /// <summary>The placeholder names used by one argument of a command line, or an empty list when it is malformed.</summary>
    public static IReadOnlyList<string> PlaceholdersOf(string? argument)
    {
        var result = new List<string>();
        foreach (var segment in ParseArgument(argument, out _) ?? new List<Segment>())
        {
            if (segment.IsPlaceholder)
            {
                result.Add(segment.Text);
            }
        }

        return result;
    }

    /// <summary>Whether <paramref name="text"/> contains whitespace (a program that does is a whole command line in one string).</summary>
    public static bool HasWhitespace(string text)
    {
        foreach (var c in text ?? string.Empty)
        {
            if (char.IsWhiteSpace(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Splits <paramref name="text"/> at runs of whitespace, as a shell would split an unquoted command line.</summary>
    public static IReadOnlyList<string> SplitOnWhitespace(string text) =>
        (text ?? string.Empty).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Replaces the placeholders, giving one output argument per template argument.</summary>
    /// <param name="valueOf">The value of a placeholder, by name.</param>
    /// <returns>The command line to run.</returns>
    public IReadOnlyList<string> Render(Func<string, string> valueOf)
    {
        if (valueOf is null)
        {
            throw new ArgumentNullException(nameof(valueOf));
        }

        var result = new string[_arguments.Count];
        var builder = new StringBuilder();
        for (var i = 0; i < _arguments.Count; i++)
        {
            builder.Clear();
            foreach (var segment in _arguments[i])
            {
                builder.Append(segment.IsPlaceholder ? valueOf(segment.Text) : segment.Text);
            }

            result[i] = builder.ToString();
        }

        return result;
    }

    /// <summary>
    /// Replaces the placeholders with typed values. <paramref name="valuesOf"/> gives a placeholder's values (its
    /// second argument says whether the placeholder is a whole argument): <see langword="null"/> leaves the whole
    /// argument out; several values are allowed only for a whole-argument placeholder and become one argument each.
    /// </summary>
    /// <param name="valuesOf">The values of a placeholder, by name and whether it is a whole argument.</param>
    /// <returns>The command line to run.</returns>
    public IReadOnlyList<string> Render(Func<string, bool, IReadOnlyList<string>?> valuesOf)
    {
        if (valuesOf is null)
        {
            throw new ArgumentNullException(nameof(valuesOf));
        }

        var result = new List<string>(_arguments.Count);
        var builder = new StringBuilder();
        foreach (var argument in _arguments)
        {
            if (argument.Count == 1 && argument[0].IsPlaceholder)
            {
                result.AddRange(valuesOf(argument[0].Text, true) ?? Array.Empty<string>());
                continue;
            }

            builder.Clear();
            var omitted = false;
            foreach (var segment in argument)
            {
                if (!segment.IsPlaceholder)
                {
                    builder.Append(segment.Text);
                    continue;
                }

                var values = valuesOf(segment.Text, false);
                if (values is null)
                {
                    omitted = true;
                    break;
                }

                if (values.Count != 1)
                {
                    throw new ArgumentException($"Placeholder '{{{segment.Text}}}' is inside a longer argument and has {values.Count} values; a collection fills only a placeholder that is a whole argument", nameof(valuesOf));
                }

                builder.Append(values[0]);
            }

            if (!omitted)
            {
                result.Add(builder.ToString());
            }
        }

        return result;
    }

    private static List<Segment>? ParseArgument(string? argument, out string? error)
    {
        error = null;
        if (argument is null)
        {
            error = "Command argument is null; give a string";
            return null;
        }

        var segments = new List<Segment>();
        var literal = new StringBuilder();
        for (var i = 0; i < argument.Length; i++)
        {
            var c = argument[i];
            if (c == '{' && i + 1 < argument.Length && argument[i + 1] == '{')
            {
                literal.Append('{');
                i++;
            }
            else if (c == '}' && i + 1 < argument.Length && argument[i + 1] == '}')
            {
                literal.Append('}');
                i++;
            }
            else if (c == '}')
            {
                error = $"Command argument '{argument}' has an unmatched '}}'; write '}}}}' for a literal brace";
                return null;
            }
            else if (c == '{')
            {
                var close = argument.IndexOf('}', i + 1);
                if (close < 0)
                {
                    error = $"Command argument '{argument}' has an unclosed '{{'; close the placeholder or write '{{{{' for a literal brace";
                    return null;
                }

                var name = argument.Substring(i + 1, close - i - 1);
                if (!IsIdentifier(name))
                {
                    error = $"Command argument '{argument}' has placeholder '{{{name}}}'; a placeholder names a parameter: a letter or '_' followed by letters, digits or '_'";
                    return null;
                }

                if (literal.Length > 0)
                {
                    segments.Add(new Segment(literal.ToString(), false));
                    literal.Clear();
                }

                segments.Add(new Segment(name, true));
                i = close;
            }
            else
            {
                literal.Append(c);
            }
        }

        if (literal.Length > 0 || segments.Count == 0)
        {
            segments.Add(new Segment(literal.ToString(), false));
        }

        return segments;
    }

    private static bool IsIdentifier(string name)
    {
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    private readonly struct Segment
    {
        public Segment(string text, bool isPlaceholder)
        {
            Text = text;
            IsPlaceholder = isPlaceholder;
        }

        public string Text { get; }

        public bool IsPlaceholder { get; }
    }
}
