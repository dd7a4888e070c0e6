using System.IO.Compression;
using System.Xml.Linq;
using TypedSandbox.Testing;

namespace TypedSandbox.Packaging.Tests;

/// <summary>
/// Packs package TypedSandbox (src/Runtime), then builds and runs a throwaway console app that references only that
/// package and uses the DSL as the card shows it: the attributes, runtime and generator all come from the package.
/// </summary>
public sealed class PackedPackageTests : IAsyncLifetime
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "typedsandbox-pack-" + Guid.NewGuid().ToString("N")[..12]);
    private TestEngine? _engine;

    private const string ConsumerProject = """
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

    private const string ConsumerProgram = """
        using TypedSandbox;

        await using var r = await TestRunner.CreateAsync();
        await r.Sandbox.Filesystem.MakeDirectoryAsync("/srv/tests", parents: true);
        await r.Sandbox.Filesystem.WriteTextAsync("/srv/tests/test_packed.py", "def test_adds():\n    assert 1 + 1 == 2\n\n\ndef test_joins():\n    assert '-'.join('ab') == 'a-b'\n");
        var result = await r.RunTestsAsync("/srv/tests");
        Console.WriteLine($"exit code {result.ExitCode}");
        Console.Write(result.Stdout);

        [Sandbox(App = "my-app", Timeout = "10m")]
        [SandboxImage("python:3.13-slim", AptInstall = ["python3-pytest"])]
        partial class TestRunner
        {
            [Command("pytest", "-q", "{path}")]
            public partial Task<ExecResult> RunTestsAsync(string path);
        }
        """;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        _engine = await TestEngine.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task A_console_app_referencing_only_the_package_builds_with_the_generator_and_runs_its_command()
    {
        // A version no cache has seen: restore must take the package just packed.
        var version = "0.0.0-packtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        var feed = Directory.CreateDirectory(Path.Combine(_work, "feed")).FullName;
        await DotnetAsync(RepositoryPaths.Root, "pack", Path.Combine("src", "Runtime"), "-c", BuildConfiguration, "-o", feed, $"-p:PackageVersion={version}");

        var package = Path.Combine(feed, $"TypedSandbox.{version}.nupkg");
        AssertLayout(package);

        var app = Directory.CreateDirectory(Path.Combine(_work, "app")).FullName;
        WriteConsumer(app, feed, version);
        await DotnetAsync(app, "build", "-c", "Release", "--packages", Path.Combine(app, "packages"));

        var run = await ExternalProcess.RunAsync(
            Dotnet, ["bin/Release/net10.0/app.dll"], app, _engine!.ModalEnvironment, TimeSpan.FromMinutes(3));

        Assert.True(run.ExitCode == 0, $"The app failed ({run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
        Assert.Equal("exit code 0", run.StdoutLines[0].Text);
        Assert.Matches(@"^2 passed in [0-9.]+s$", run.StdoutLines[^1].Text);
    }

    private static string BuildConfiguration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>One package: runtime and attributes (with XML docs) in lib/, the generator in analyzers/, no unpublished dependencies.</summary>
    private static void AssertLayout(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("lib/net10.0/TypedSandbox.Runtime.dll", entries);
        Assert.Contains("lib/net10.0/TypedSandbox.Runtime.xml", entries);
        Assert.Contains("lib/net10.0/TypedSandbox.Attributes.dll", entries);
        Assert.Contains("lib/net10.0/TypedSandbox.Attributes.xml", entries);
        Assert.Contains("analyzers/dotnet/cs/TypedSandbox.Generators.dll", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.Contains("Generators", StringComparison.Ordinal));

        using var nuspec = zip.GetEntry("TypedSandbox.nuspec")!.Open();
        var dependencies = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => (string)e.Attribute("id")!).ToList();
        Assert.DoesNotContain(dependencies, id => id.StartsWith("TypedSandbox", StringComparison.Ordinal));
    }

    /// <summary>
    /// The app's folder: its project and program, a nuget.config adding the local feed to the usual sources and the
    /// machine's package cache as a read-only fallback (restore extracts into the app's own folder), and empty
    /// Directory.* files so nothing above the temp folder leaks in.
    /// </summary>
    private static void WriteConsumer(string app, string feed, string version)
    {
        var machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } cache
            ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(app, "app.csproj"), ConsumerProject.Replace("$(TypedSandboxVersion)", version, StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(app, "Program.cs"), ConsumerProgram);
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
    private static async Task DotnetAsync(string directory, params string[] args)
    {
        var environment = new Dictionary<string, string>
        {
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["UseSharedCompilation"] = "false",
        };
        var outcome = await ExternalProcess.RunAsync(Dotnet, [.. args, "--nologo", "-v", "quiet", "-nodeReuse:false"], directory, environment, TimeSpan.FromMinutes(4));
        Assert.True(outcome.ExitCode == 0, $"dotnet {string.Join(' ', args)} failed ({outcome.ExitCode}):\n{outcome.Stdout}\n{outcome.Stderr}");
    }
}
