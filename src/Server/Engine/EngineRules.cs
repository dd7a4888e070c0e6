namespace TypedSandbox.Server.Engine;

/// <summary>Request rules the engine enforces (names, timeouts, paths); every message names the rule broken.</summary>
internal static class EngineRules
{
    /// <summary>The longest sandbox lifetime the engine accepts.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    /// <summary>The lifetime of a sandbox created without a timeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Checks a Modal object name (apps, sandboxes, secrets, volumes): letters, digits, '-', '_', '.', fewer than 64.</summary>
    public static string? CheckObjectName(string name, string what)
    {
        if (string.IsNullOrEmpty(name))
        {
            return $"{what} must not be empty.";
        }

        if (name.Length > 63)
        {
            return $"{what} '{name}' is {name.Length} characters long; the limit is 63.";
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return $"{what} '{name}' contains '{c}'; use letters, digits, '-', '_' and '.' (at most 63 characters).";
            }
        }

        return null;
    }

    /// <summary>Checks an absolute, canonical path inside a sandbox (workdir, mount path).</summary>
    public static string? CheckAbsolutePath(string path, string what)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            return $"{what} '{path}' must be an absolute path (starting with '/').";
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return $"{what} must not contain a NUL character.";
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment is "." or "..")
            {
                return $"{what} '{path}' must be canonical: no '.' or '..' segments.";
            }
        }

        return null;
    }

    /// <summary>Checks an environment variable name: a letter or '_' first, then letters, digits and '_'.</summary>
    public static string? CheckEnvironmentKey(string key)
    {
        if (key.Length == 0 || !(char.IsAsciiLetter(key[0]) || key[0] == '_'))
        {
            return $"Environment variable name '{key}' must start with a letter or '_'.";
        }

        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return $"Environment variable name '{key}' contains '{c}'; use letters, digits and '_'.";
            }
        }

        return null;
    }

    /// <summary>Throws <see cref="EngineErrorKind.InvalidArgument"/> when <paramref name="error"/> is set.</summary>
    public static void Require(string? error)
    {
        if (error is not null)
        {
            throw EngineException.Invalid(error);
        }
    }
}
