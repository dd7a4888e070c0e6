using System.Globalization;

namespace TypedSandbox.Validation;

/// <summary>Character helpers shared by the rules (ASCII only, culture-independent).</summary>
internal static class Text
{
    /// <summary>Whether <paramref name="c"/> is an ASCII letter or digit.</summary>
    public static bool IsAsciiLetterOrDigit(char c) => IsAsciiLetter(c) || IsAsciiDigit(c);

    /// <summary>Whether <paramref name="c"/> is an ASCII letter.</summary>
    public static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

    /// <summary>Whether <paramref name="c"/> is an ASCII digit.</summary>
    public static bool IsAsciiDigit(char c) => c >= '0' && c <= '9';

    /// <summary>Quotes a character for a message, spelling out the invisible ones.</summary>
    public static string Describe(char c) => c switch
    {
        '\t' => "a tab",
        '\n' => "a line break",
        '\r' => "a carriage return",
        _ when char.IsControl(c) => "control character U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture),
        _ => "'" + c + "'",
    };
}
