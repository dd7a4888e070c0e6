namespace TypedSandbox.Validation;

/// <summary>
/// The naming rule of apps, sandboxes, volumes and secrets (Modal's): ASCII letters, digits, '-', '_' and '.',
/// 1 to 63 characters.
/// </summary>
internal static class ObjectNames
{
    /// <summary>The longest name allowed.</summary>
    public const int MaxLength = 63;

    private const string Allowed = "use letters, digits, '-', '_' and '.' (at most 63 characters)";

    /// <summary>Checks a name.</summary>
    /// <param name="name">The name to check.</param>
    /// <param name="kind">What the name names, capitalised, for the message: "App name", "Sandbox name"…</param>
    /// <returns><see langword="null"/> when the name is valid, otherwise a message saying what is wrong and what is allowed.</returns>
    public static string? Check(string? name, string kind)
    {
        if (name is null || name.Length == 0)
        {
            return $"{kind} is empty; {Allowed}";
        }

        foreach (var c in name)
        {
            if (!IsAllowed(c))
            {
                return $"{kind} '{name}' contains {Text.Describe(c)}; {Allowed}";
            }
        }

        if (name.Length > MaxLength)
        {
            return $"{kind} '{name}' is {name.Length} characters long; {Allowed}";
        }

        return null;
    }

    private static bool IsAllowed(char c) => Text.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
