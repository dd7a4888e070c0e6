namespace TypedSandbox.Samples.Guide;

/// <summary>The guide's sections in the guide's order, and the settings they share.</summary>
internal static class GuideSections
{
    /// <summary>Environment variable that overrides the image every section starts from.</summary>
    public const string ImageVariable = "GUIDE_IMAGE";

    /// <summary>The app every section creates its sandboxes in (Modal's <c>App.lookup("my-app", create_if_missing=True)</c>).</summary>
    public const string AppName = "my-app";

    /// <summary>
    /// The image the guide uses; <c>GUIDE_IMAGE</c> replaces it (for example with a reference served by the registry
    /// mirror the engine is configured with). It must provide <c>python</c> and <c>bash</c>.
    /// </summary>
    public static string ImageReference =>
        Environment.GetEnvironmentVariable(ImageVariable) is { Length: > 0 } configured ? configured : "python:3.13-slim";

    public static IReadOnlyList<IGuideSection> All { get; } =
    [
        new GettingStarted(),
        new RunningCommands(),
        new PtyExecs(),
        new Timeouts(),
        new IdleTimeouts(),
        new Readiness(),
        new Images(),
        new Volumes(),
        new Secrets(),
        new Workdir(),
        new Entrypoint(),
        new NamedSandboxes(),
        new TagsAndListing(),
        new FileAccess(),
        new Networking(),
        new NetworkPolicy(),
        new DomainAllowlist(),
        new HeaderReplacements(),
        new ConnectTokens(),
        new Resources(),
        new Snapshots(),
        new MemorySnapshots(),
        new DirectoryMounts(),
        new Sidecars(),
        new ObjectLifecycle(),
        new OidcTokens(),
    ];

    /// <summary>The sections named in <paramref name="names"/> (all of them when empty), in the guide's order.</summary>
    public static IReadOnlyList<IGuideSection> Select(IReadOnlyCollection<string> names)
    {
        if (names.Count == 0)
        {
            return All;
        }
        var unknown = names.Where(n => !All.Any(s => string.Equals(s.Name, n, StringComparison.OrdinalIgnoreCase))).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                $"Unknown section(s): {string.Join(", ", unknown)}. Sections: {string.Join(", ", All.Select(s => s.Name))}.", nameof(names));
        }
        return All.Where(s => names.Contains(s.Name, StringComparer.OrdinalIgnoreCase)).ToList();
    }

    /// <summary>The guide's app and image, the start of nearly every snippet.</summary>
    public static async Task<(App App, Image Image)> AppAndImageAsync(SandboxClient client, CancellationToken cancellationToken)
    {
        var app = await client.Apps.FromNameAsync(AppName, createIfMissing: true, cancellationToken: cancellationToken);
        return (app, client.Images.FromRegistry(ImageReference));
    }
}
