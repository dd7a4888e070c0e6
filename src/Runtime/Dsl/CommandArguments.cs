using System.Collections;
using System.Globalization;

namespace TypedSandbox.Dsl;

/// <summary>How typed values become command-line arguments: placeholders, options, invariant formatting.</summary>
internal static class CommandArguments
{
    /// <summary>A placeholder's values: none (null, the argument is left out), one, or one per element of a collection.</summary>
    public static List<string>? ValuesOf(object? value, string name, bool wholeArgument)
    {
        if (value is null)
        {
            return null;
        }

        if (value is string text)
        {
            return [text];
        }

        if (value is IEnumerable sequence)
        {
            if (!wholeArgument)
            {
                throw new InvalidArgumentException($"Parameter '{name}' is a collection, but its placeholder is inside a longer argument; a collection fills only a placeholder that is a whole argument, such as \"{{{name}}}\"");
            }

            return sequence.Cast<object?>().Where(e => e is not null).Select(e => Format(e!)).ToList();
        }

        return [Format(value)];
    }

    public static void AppendOption(List<string> line, string option, object? value)
    {
        switch (value)
        {
            case null:
            case false:
                return;
            case true:
                line.Add(option);
                return;
            case string text:
                AddOption(line, option, text);
                return;
            case IEnumerable sequence:
                foreach (var element in sequence)
                {
                    if (element is not null)
                    {
                        AddOption(line, option, Format(element));
                    }
                }

                return;
            default:
                AddOption(line, option, Format(value));
                return;
        }

        static void AddOption(List<string> line, string option, string value)
        {
            if (option.EndsWith('='))
            {
                line.Add(option + value);
            }
            else
            {
                line.Add(option);
                line.Add(value);
            }
        }
    }

    /// <summary>One value as text: invariant culture, dates as ISO 8601 round-trip, enums by name.</summary>
    public static string Format(object value) => value switch
    {
        string text => text,
        bool flag => flag ? "true" : "false",
        DateTime date => date.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset date => date.ToString("O", CultureInfo.InvariantCulture),
        DateOnly date => date.ToString("O", CultureInfo.InvariantCulture),
        TimeOnly time => time.ToString("O", CultureInfo.InvariantCulture),
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        Enum member => member.ToString(),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
