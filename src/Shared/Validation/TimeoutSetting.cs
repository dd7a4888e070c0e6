using System;

namespace TypedSandbox.Validation;

/// <summary>
/// A timeout as declared: absent, written as text (the attributes and the DSL: "10m"), or given as a value (the
/// client and the engine). The rule book checks both the same way, so one bad value has one message.
/// </summary>
internal readonly struct TimeoutSetting
{
    private TimeoutSetting(bool isSet, string? text, TimeSpan value)
    {
        IsSet = isSet;
        Text = text;
        Value = value;
    }

    /// <summary>Whether a timeout was given.</summary>
    public bool IsSet { get; }

    /// <summary>The declared text, or <see langword="null"/> for a value.</summary>
    public string? Text { get; }

    /// <summary>The value given (for a text, see <see cref="Check"/>).</summary>
    public TimeSpan Value { get; }

    /// <summary>A timeout declared as text; <see langword="null"/> text is not set.</summary>
    public static TimeoutSetting FromText(string? text) => text is null ? default : new TimeoutSetting(true, text, TimeSpan.Zero);

    /// <summary>A timeout given as a value; <see langword="null"/> is not set.</summary>
    public static TimeoutSetting FromValue(TimeSpan? value) => value is { } v ? new TimeoutSetting(true, null, v) : default;

    /// <summary>Checks the timeout.</summary>
    /// <param name="kind">What the timeout is, capitalised, for the message: "Timeout", "Idle timeout"…</param>
    /// <param name="value">The timeout when set and valid.</param>
    /// <returns><see langword="null"/> when valid or not set, otherwise what is wrong and what is allowed.</returns>
    public string? Check(string kind, out TimeSpan? value)
    {
        value = null;
        if (!IsSet)
        {
            return null;
        }

        TimeSpan parsed;
        var error = Text is not null ? Durations.CheckTimeout(Text, kind, out parsed) : Durations.CheckTimeout(parsed = Value, kind);
        value = error is null ? parsed : null;
        return error;
    }
}
