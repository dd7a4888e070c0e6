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
        var (feed, version) = (SharedFeed.Directory, SharedFeed.Version);
        var package = await SharedFeed.RuntimeAsync();
        AssertLayout(package);

        var app = Path.Combine(_work, "app");
        PackedConsumer.Write(app, feed, version, ConsumerProgram);
        await PackedConsumer.EnsureDotnetAsync(app, "build", "-c", "Release", "--packages", Path.Combine(app, "packages"));

        var run = await ExternalProcess.RunAsync(
            PackedConsumer.Dotnet, ["bin/Release/net10.0/app.dll"], app, _engine!.ModalEnvironment, TimeSpan.FromMinutes(3));

        Assert.True(run.ExitCode == 0, $"The app failed ({run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
        Assert.Equal("exit code 0", run.StdoutLines[0].Text);
        Assert.Matches(@"^2 passed in [0-9.]+s$", run.StdoutLines[^1].Text);
    }

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
        Assert.Contains("analyzers/dotnet/cs/TypedSandbox.Generators.CodeFixers.dll", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.Contains("Generators", StringComparison.Ordinal));

        using var nuspec = zip.GetEntry("TypedSandbox.nuspec")!.Open();
        var dependencies = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => (string)e.Attribute("id")!).ToList();
        Assert.DoesNotContain(dependencies, id => id.StartsWith("TypedSandbox", StringComparison.Ordinal));
    }
}
