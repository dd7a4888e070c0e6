using TypedSandbox.Validation;

namespace TypedSandbox.Server.Engine;

/// <summary>
/// The engine's side of the shared rule book (<c>TypedSandbox.Validation</c>, also run by the analyzers at compile
/// time): checks that throw INVALID_ARGUMENT with the rule's message.
/// </summary>
internal static class EngineRules
{
    /// <summary>The longest sandbox lifetime the engine accepts.</summary>
    public static TimeSpan MaxTimeout => Durations.MaxTimeout;

    /// <summary>The lifetime of a sandbox created without a timeout.</summary>
    public static TimeSpan DefaultTimeout => Durations.DefaultSandboxTimeout;

    /// <summary>Checks a Modal object name (apps, sandboxes, secrets, volumes).</summary>
    public static string? CheckObjectName(string name, string what) => ObjectNames.Check(name, what);

    /// <summary>Checks a working directory inside a sandbox.</summary>
    public static string? CheckWorkdir(string path, string what) => Paths.CheckWorkdir(path, what);

    /// <summary>Checks a volume mount path (absolute, canonical, not '/').</summary>
    public static string? CheckMountPath(string path) => Paths.CheckMountPath(path);

    /// <summary>Checks an environment variable name.</summary>
    public static string? CheckEnvironmentKey(string key) => EnvironmentKeys.Check(key);

    /// <summary>Checks a tag key and value.</summary>
    public static string? CheckTag(string key, string value) => Tags.CheckKey(key) ?? Tags.CheckValue(key, value);

    /// <summary>Throws <see cref="EngineErrorKind.InvalidArgument"/> when <paramref name="error"/> is set.</summary>
    public static void Require(string? error)
    {
        if (error is not null)
        {
            throw EngineException.Invalid(error);
        }
    }
}
