using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// The experimental options (<c>experimentalOptions</c> of the SDKs) this engine accepts: one allow-list, so an option
/// is either implemented or refused by name, never silently ignored.
/// </summary>
internal static class ExperimentalOptions
{
    /// <summary>Memory snapshots of the sandbox (<c>sb.experimentalSnapshot</c>).</summary>
    public const string EnableSnapshot = "enable_snapshot";

    /// <summary>A snapshot taken when the sandbox exits (<c>sb.experimentalGetExitSnapshot</c>).</summary>
    public const string EnableExitSnapshot = "enable_exit_snapshot";

    /// <summary>Every option the engine accepts.</summary>
    public static IReadOnlyList<string> Supported { get; } = [EnableSnapshot, EnableExitSnapshot];

    /// <summary>Refuses any option outside <see cref="Supported"/> with INVALID_ARGUMENT naming what is supported.</summary>
    /// <exception cref="EngineException">An option is not supported (InvalidArgument).</exception>
    public static void Validate(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            if (Supported.Contains(name, StringComparer.Ordinal))
            {
                continue;
            }

            var why = name == "enable_docker" ? " (the local engine runs no Docker daemon inside sandboxes)" : "";
            throw EngineException.Invalid(
                $"Experimental option '{name}' is not supported by the local engine{why}; supported: {string.Join(", ", Supported)}.");
        }
    }

    /// <summary>True when <paramref name="key"/> is set to "true" (the SDK sends booleans as strings), case-insensitively.</summary>
    public static bool IsEnabled(IReadOnlyDictionary<string, string> options, string key) =>
        options.TryGetValue(key, out var value) && string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);
}
