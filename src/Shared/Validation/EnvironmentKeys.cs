namespace TypedSandbox.Validation;

/// <summary>Environment variable keys: a letter or '_' followed by letters, digits or '_'.</summary>
internal static class EnvironmentKeys
{
    private const string Allowed = "use a letter or '_' followed by letters, digits or '_'";

    /// <summary>Checks an environment variable key.</summary>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
    public static string? Check(string? key)
    {
        if (key is null || key.Length == 0)
        {
            return $"Environment variable key is empty; {Allowed}";
        }

        if (Text.IsAsciiDigit(key[0]))
        {
            return $"Environment variable key '{key}' starts with a digit; {Allowed}";
        }

        foreach (var c in key)
        {
            if (!(Text.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return $"Environment variable key '{key}' contains {Text.Describe(c)}; {Allowed}";
            }
        }

        return null;
    }

    /// <summary>Splits and checks a <c>"KEY=VALUE"</c> entry.</summary>
    /// <param name="entry">The entry.</param>
    /// <param name="key">The key, when the entry has a '='.</param>
    /// <param name="value">The value, when the entry has a '='.</param>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckEntry(string? entry, out string key, out string value)
    {
        key = string.Empty;
        value = string.Empty;
        var equals = entry is null ? -1 : entry.IndexOf('=');
        if (entry is null || equals < 0)
        {
            return $"Environment entry '{entry}' has no '='; write it as KEY=VALUE";
        }

        key = entry.Substring(0, equals);
        value = entry.Substring(equals + 1);
        return Check(key);
    }
}
