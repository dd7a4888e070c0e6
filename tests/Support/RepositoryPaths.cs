namespace TypedSandbox.Testing;

/// <summary>Locates the repository (scripts, fixtures) from a test's output directory.</summary>
internal static class RepositoryPaths
{
    /// <summary>The repository root: the nearest parent directory holding TypedSandbox.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Where built test images and other slow fixtures are cached between runs.</summary>
    public static string TestCache =>
        Environment.GetEnvironmentVariable("TYPEDSANDBOX_TEST_CACHE") is { Length: > 0 } cache ? cache : "/var/cache/typedsandbox-test";

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TypedSandbox.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"TypedSandbox.sln not found above {AppContext.BaseDirectory}.");
    }
}
