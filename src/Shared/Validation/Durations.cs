using System;
using System.Globalization;
using System.Text;

namespace TypedSandbox.Validation;

/// <summary>
/// Durations written as hours, minutes and seconds: <c>"90s"</c>, <c>"10m"</c>, <c>"1h30m"</c>. Units come in the
/// order h, m, s, each at most once, in lower case and without spaces. The canonical form carries overflowing units
/// upwards and drops zero units (<c>"90s"</c> is canonically <c>"1m30s"</c>).
/// </summary>
internal static class Durations
{
    private const string Allowed = "write hours, minutes and seconds such as '90s', '10m' or '1h30m'";

    /// <summary>Parses a duration in the strict grammar (a leading '-' is accepted so that callers can reject it with a clear message).</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="value">The parsed duration.</param>
    /// <param name="error">Why the text is not a duration, or <see langword="null"/>.</param>
    /// <returns>Whether the text is a duration.</returns>
    public static bool TryParse(string? text, out TimeSpan value, out string? error)
    {
        value = TimeSpan.Zero;
        error = null;
        if (text is null || text.Length == 0)
        {
            error = $"Duration is empty; {Allowed}";
            return false;
        }

        var negative = text[0] == '-';
        var i = negative ? 1 : 0;
        long seconds = 0;
        var lastUnit = -1;
        if (i == text.Length)
        {
            error = $"Duration '{text}' has no value; {Allowed}";
            return false;
        }

        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && Text.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == start)
            {
                error = $"Duration '{text}' has {Text.Describe(text[i])} where a number belongs; {Allowed}";
                return false;
            }

            if (i - start > 9)
            {
                error = $"Duration '{text}' has a number too large; {Allowed}";
                return false;
            }

            if (i == text.Length)
            {
                error = $"Duration '{text}' ends without a unit; {Allowed}";
                return false;
            }

            var unit = text[i] switch { 'h' => 0, 'm' => 1, 's' => 2, _ => -1 };
            if (unit < 0)
            {
                error = $"Duration '{text}' has unit {Text.Describe(text[i])}; {Allowed}";
                return false;
            }

            if (unit <= lastUnit)
            {
                error = $"Duration '{text}' repeats or reorders units; {Allowed}";
                return false;
            }

            lastUnit = unit;
            var number = long.Parse(text.Substring(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
            seconds += number * (unit == 0 ? 3600 : unit == 1 ? 60 : 1);
            i++;
        }

        value = TimeSpan.FromSeconds(negative ? -seconds : seconds);
        return true;
    }

    /// <summary>Parses and checks a timeout: more than zero and at most 24 hours.</summary>
    /// <param name="text">The declared text.</param>
    /// <param name="kind">What the duration is, capitalised, for the message: "Timeout", "Idle timeout"…</param>
    /// <param name="value">The timeout when valid.</param>
    /// <returns><see langword="null"/> when valid, otherwise a message saying what is wrong and what is allowed.</returns>
    public static string? CheckTimeout(string? text, string kind, out TimeSpan value) =>
        TryParse(text, out value, out _) ? CheckRange(value, kind, text!) : $"{kind} '{text}' is not a duration; {Range}";

    /// <summary>Checks a timeout given as a value (the client's and the engine's): whole seconds, more than zero, at most 24 hours.</summary>
    /// <param name="value">The timeout.</param>
    /// <param name="kind">What the duration is, capitalised, for the message: "Timeout", "Idle timeout"…</param>
    /// <returns><see langword="null"/> when valid, otherwise the message a declared text of the same value gets.</returns>
    public static string? CheckTimeout(TimeSpan value, string kind) =>
        value.Ticks % TimeSpan.TicksPerSecond != 0
            ? $"{kind} '{value.ToString("c", CultureInfo.InvariantCulture)}' is not a whole number of seconds; {Range}"
            : CheckRange(value, kind, Format(value));

    private const string Range = "use a duration greater than zero and at most 24h, such as '90s', '10m' or '1h30m'";

    private static string? CheckRange(TimeSpan value, string kind, string written)
    {
        if (value < TimeSpan.Zero)
        {
            return $"{kind} '{written}' is negative; {Range}";
        }

        if (value == TimeSpan.Zero)
        {
            return $"{kind} '{written}' is zero; {Range}";
        }

        return value > Limits.MaxTimeout ? $"{kind} '{written}' is longer than the maximum of 24 hours; {Range}" : null;
    }

    /// <summary>Writes a duration in canonical form: <c>"1h30m"</c>, <c>"1m30s"</c>, <c>"0s"</c>. Sub-second parts are dropped.</summary>
    /// <param name="value">The duration.</param>
    /// <returns>The canonical text.</returns>
    public static string Format(TimeSpan value)
    {
        var total = (long)value.TotalSeconds;
        var builder = new StringBuilder();
        if (total < 0)
        {
            builder.Append('-');
            total = -total;
        }

        var hours = total / 3600;
        var minutes = total / 60 % 60;
        var seconds = total % 60;
        if (hours > 0)
        {
            builder.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (minutes > 0)
        {
            builder.Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        if (seconds > 0 || total == 0)
        {
            builder.Append(seconds.ToString(CultureInfo.InvariantCulture)).Append('s');
        }

        return builder.ToString();
    }

    /// <summary>Whether <paramref name="text"/> parses and is already written canonically.</summary>
    public static bool IsCanonical(string text) =>
        TryParse(text, out var value, out _) && string.Equals(Format(value), text, StringComparison.Ordinal);

    /// <summary>
    /// Reads what a person probably meant (<c>"10 min"</c>, <c>"1H 30M"</c>, <c>"2 hours"</c>, <c>"600"</c> as seconds,
    /// <c>"1d"</c>), so a code fix can offer the canonical form. Never used to accept input.
    /// </summary>
    /// <param name="text">The text to read.</param>
    /// <param name="value">The duration read.</param>
    /// <returns>Whether a duration could be read.</returns>
    public static bool TryParseLenient(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text is null)
        {
            return false;
        }

        var s = text.Trim().ToLowerInvariant();
        if (s.Length == 0)
        {
            return false;
        }

        var negative = s[0] == '-';
        var i = negative ? 1 : 0;
        long seconds = 0;
        while (i < s.Length)
        {
            while (i < s.Length && s[i] == ' ')
            {
                i++;
            }

            var start = i;
            while (i < s.Length && Text.IsAsciiDigit(s[i]))
            {
                i++;
            }

            if (i == start || i - start > 9)
            {
                return false;
            }

            var number = long.Parse(s.Substring(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
            while (i < s.Length && s[i] == ' ')
            {
                i++;
            }

            var unitStart = i;
            while (i < s.Length && Text.IsAsciiLetter(s[i]))
            {
                i++;
            }

            var unit = s.Substring(unitStart, i - unitStart);
            long factor;
            switch (unit)
            {
                case "" when unitStart == s.Length && seconds == 0:
                case "s" or "sec" or "secs" or "second" or "seconds":
                    factor = 1;
                    break;
                case "m" or "min" or "mins" or "minute" or "minutes":
                    factor = 60;
                    break;
                case "h" or "hr" or "hrs" or "hour" or "hours":
                    factor = 3600;
                    break;
                case "d" or "day" or "days":
                    factor = 86400;
                    break;
                default:
                    return false;
            }

            seconds += number * factor;
            while (i < s.Length && (s[i] == ' ' || s[i] == ','))
            {
                i++;
            }
        }

        value = TimeSpan.FromSeconds(negative ? -seconds : seconds);
        return true;
    }
}
