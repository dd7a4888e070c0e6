using TypedSandbox.Validation;

namespace TypedSandbox.Dsl;

/// <summary>What <c>[SandboxImage]</c> declares: a registry reference or a Debian base, and build steps.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class ImageDefinition
{
    /// <summary>The Debian suite used when neither a reference nor a suite is given.</summary>
    public const string DefaultDebianSuite = "bookworm";

    /// <summary>The registry reference, or <see langword="null"/> for <c>debian:&lt;suite&gt;-slim</c>.</summary>
    public string? Reference { get; init; }

    /// <summary>The Debian suite of the base when <see cref="Reference"/> is <see langword="null"/>.</summary>
    public string? DebianSuite { get; init; }

    /// <summary>Environment variables, each "KEY=VALUE".</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Debian packages to install.</summary>
    public IReadOnlyList<string> AptInstall { get; init; } = [];

    /// <summary>Python packages to install.</summary>
    public IReadOnlyList<string> PipInstall { get; init; } = [];

    /// <summary>Shell commands to run while building.</summary>
    public IReadOnlyList<string> RunCommands { get; init; } = [];

    /// <summary>The image's working directory.</summary>
    public string? Workdir { get; init; }

    /// <summary>The runtime image: base, then Env, AptInstall, PipInstall, RunCommands and Workdir, in that order.</summary>
    internal Image Resolve(SandboxClient client)
    {
        var image = client.Images.FromRegistry(Reference ?? $"debian:{DebianSuite ?? DefaultDebianSuite}-slim");
        if (Env.Count > 0)
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in Env)
            {
                _ = EnvironmentKeys.CheckEntry(entry, out var key, out var value);
                variables[key] = value;
            }

            image = image.Env(variables);
        }

        if (AptInstall.Count > 0)
        {
            image = image.AptInstall([.. AptInstall]);
        }

        if (PipInstall.Count > 0)
        {
            image = image.PipInstall([.. PipInstall]);
        }

        if (RunCommands.Count > 0)
        {
            image = image.RunCommands([.. RunCommands]);
        }

        return Workdir is null ? image : image.Workdir(Workdir);
    }

    /// <summary>The rule book's problems with this image; a Debian suite is checked as the reference it becomes.</summary>
    internal ProblemList FindProblems() =>
        ImageRules.Check(Reference ?? $"debian:{DebianSuite ?? DefaultDebianSuite}-slim", hasReference: true, Env, Workdir);
}
