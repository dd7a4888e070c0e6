namespace TypedSandbox.Validation;

/// <summary>Tag rules: keys of ASCII letters, digits, '-', '_', '.' and '/' (1 to 63 characters); values of at most 255 characters without control characters.</summary>
internal static class Tags
{
    /// <summary>The longest tag key allowed.</summary>
    public const int MaxKeyLength = 63;

    /// <summary>The longest tag value allowed.</summary>
    public const int MaxValueLength = 255;

    private const string KeyAllowed = "use letters, digits, '-', '_', '.' and '/' (at most 63 characters)";
    private const string ValueAllowed = "use at most 255 characters and no control characters";

    /// <summary>Checks a tag key.</summary>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckKey(string? key)
    {
        if (key is null || key.Length == 0)
        {
            return $"Tag key is empty; {KeyAllowed}";
        }

        foreach (var c in key)
        {
            if (!(Text.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/'))
            {
                return $"Tag key '{key}' contains {Text.Describe(c)}; {KeyAllowed}";
            }
        }

        return key.Length > MaxKeyLength ? $"Tag key '{key}' is {key.Length} characters long; {KeyAllowed}" : null;
    }

    /// <summary>Checks a tag value.</summary>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckValue(string key, string? value)
    {
        if (value is null)
        {
            return $"Tag '{key}' has no value; {ValueAllowed}";
        }

        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return $"Tag '{key}' has a value containing {Text.Describe(c)}; {ValueAllowed}";
            }
        }

        return value.Length > MaxValueLength ? $"Tag '{key}' has a value of {value.Length} characters; {ValueAllowed}" : null;
    }
}
