using System.Globalization;
using TypedSandbox.Testing;

namespace TypedSandbox.Packaging.Tests;

/// <summary>
/// Packs package TypedSandbox (src/Runtime) into a local feed and writes throwaway console apps that reference only
/// that package: the attributes, the runtime and the generator all come from the package, as a user gets them.
/// </summary>
internal static class PackedConsumer
{
    public const string Project = """
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="TypedSandbox" Version="$(TypedSandboxVersion)" />
          </ItemGroup>
        </Project>
        """;

    public static string BuildConfiguration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>A package version no cache has seen.</summary>
    public static string NewVersion() => "0.0.0-packtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);

    /// <summary>Packs src/<paramref name="folder"/> (package <paramref name="packageId"/>) into <paramref name="feed"/> as <paramref name="version"/>.</summary>
    public static async Task<string> PackAsync(string feed, string folder, string packageId, string version)
    {
        // Test classes run in parallel, and two packs of the same projects would write the same bin/ and obj/ files.
        await PackGate.WaitAsync();
        try
        {
            Directory.CreateDirectory(feed);
            await EnsureDotnetAsync(RepositoryPaths.Root, "pack", Path.Combine("src", folder), "-c", BuildConfiguration, "-o", feed, $"-p:PackageVersion={version}");
            return Path.Combine(feed, $"{packageId}.{version}.nupkg");
        }
        finally
        {
            PackGate.Release();
        }
    }

    private static readonly SemaphoreSlim PackGate = new(1, 1);

    /// <summary>
    /// The app's folder: its project and program, a nuget.config adding the local feed to the usual sources and the
    /// machine's package cache as a read-only fallback (restore extracts into the app's own folder), and empty
    /// Directory.* files so nothing above the temp folder leaks in.
    /// </summary>
    public static void Write(string app, string feed, string version, string program, string project = Project)
    {
        Directory.CreateDirectory(app);
        var machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } cache
            ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(app, "app.csproj"), project.Replace("$(TypedSandboxVersion)", version, StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(app, "Program.cs"), program);
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="typedsandbox-local" value="{feed}" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine" value="{machineCache}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(app, name), "<Project />\n");
        }
    }

    /// <summary>Runs the SDK without leaving build servers or MSBuild nodes behind.</summary>
    public static Task<ProcessOutcome> DotnetAsync(string directory, params string[] args)
    {
        var environment = new Dictionary<string, string>
        {
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["UseSharedCompilation"] = "false",
        };
        return ExternalProcess.RunAsync(Dotnet, [.. args, "--nologo", "-nodeReuse:false"], directory, environment, TimeSpan.FromMinutes(9));
    }

    /// <summary>Runs the SDK quietly and fails the test when it fails.</summary>
    public static async Task EnsureDotnetAsync(string directory, params string[] args)
    {
        var outcome = await DotnetAsync(directory, [.. args, "-v", "quiet"]);
        Assert.True(outcome.ExitCode == 0, $"dotnet {string.Join(' ', args)} failed ({outcome.ExitCode}):\n{outcome.Stdout}\n{outcome.Stderr}");
    }
}
