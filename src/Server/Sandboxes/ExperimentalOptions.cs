namespace TypedSandbox.Server.Sandboxes;

/// <summary>The keys of Modal's <c>experimentalOptions</c> the engine understands, and how their values read.</summary>
internal static class ExperimentalOptions
{
    /// <summary>Snapshot the sandbox's filesystem as an image when it ends (<c>sb.experimentalGetExitSnapshot()</c>).</summary>
    public const string EnableExitSnapshot = "enable_exit_snapshot";

    /// <summary>True when <paramref name="key"/> is set to "true" (the SDK sends booleans as strings), case-insensitively.</summary>
    public static bool IsEnabled(IReadOnlyDictionary<string, string> options, string key) =>
        options.TryGetValue(key, out var value) && string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);
}
