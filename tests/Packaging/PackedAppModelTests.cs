using System.IO.Compression;
using System.Xml.Linq;
using TypedSandbox.Testing;

namespace TypedSandbox.Packaging.Tests;

/// <summary>
/// Packs TypedSandbox, TypedSandbox.Hosting and TypedSandbox.AI, then builds and runs a throwaway generic-host app that
/// references only the two app-model packages: AddTypedSandbox, the health check and run_code from the packages.
/// </summary>
public sealed class PackedAppModelTests : IAsyncLifetime
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "typedsandbox-pack-appmodel-" + Guid.NewGuid().ToString("N")[..12]);
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
            <FrameworkReference Include="Microsoft.AspNetCore.App" />
            <PackageReference Include="TypedSandbox.Hosting" Version="$(TypedSandboxVersion)" />
            <PackageReference Include="TypedSandbox.AI" Version="$(TypedSandboxVersion)" />
          </ItemGroup>
        </Project>
        """;

    // The profile comes from MODAL_CONFIG_PATH, underneath the (empty) TypedSandbox section.
    private const string ConsumerProgram = """
        using System.Text.Json;
        using Microsoft.Extensions.AI;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Diagnostics.HealthChecks;
        using Microsoft.Extensions.Hosting;
        using Microsoft.Extensions.Logging;
        using TypedSandbox;
        using TypedSandbox.AI;

        var builder = Host.CreateApplicationBuilder(args);
        builder.Logging.ClearProviders();
        builder.Services.AddTypedSandbox();
        builder.Services.AddHealthChecks().AddTypedSandbox();
        using var host = builder.Build();
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Console.WriteLine($"health {health.Status}");

        await using var tool = SandboxTools.CreateCodeInterpreter(host.Services.GetRequiredService<SandboxClient>(),
            new CodeInterpreterOptions { Image = "busybox:latest" });
        var result = (JsonElement)(await tool.InvokeAsync(new AIFunctionArguments { ["language"] = "sh", ["code"] = "echo packed" }))!;
        Console.WriteLine($"{tool.Name} {result.GetProperty("exit_code").GetInt32()} {result.GetProperty("stdout").GetString()!.Trim()}");
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
    public async Task A_host_app_referencing_the_Hosting_and_AI_packages_checks_health_and_runs_code()
    {
        var (feed, version) = (SharedFeed.Directory, SharedFeed.Version);
        await SharedFeed.RuntimeAsync();
        var hosting = await SharedFeed.PackAsync("Hosting", "TypedSandbox.Hosting");
        var ai = await SharedFeed.PackAsync("AI", "TypedSandbox.AI");
        AssertPackage(hosting, "TypedSandbox.Hosting", version, "Microsoft.Extensions.Diagnostics.HealthChecks");
        AssertPackage(ai, "TypedSandbox.AI", version, "Microsoft.Extensions.AI.Abstractions");

        var app = Path.Combine(_work, "app");
        PackedConsumer.Write(app, feed, version, ConsumerProgram, ConsumerProject);
        await PackedConsumer.EnsureDotnetAsync(app, "build", "-c", "Release", "--packages", Path.Combine(app, "packages"));

        var run = await ExternalProcess.RunAsync(
            PackedConsumer.Dotnet, ["bin/Release/net10.0/app.dll"], app, _engine!.ModalEnvironment, TimeSpan.FromMinutes(3));

        Assert.True(run.ExitCode == 0, $"The app failed ({run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
        Assert.Equal(["health Healthy", "run_code 0 packed"], run.StdoutLines.Select(l => l.Text));
    }

    /// <summary>The assembly with its XML docs in lib/net10.0, and dependencies on TypedSandbox of the same version and on <paramref name="dependency"/>.</summary>
    private static void AssertPackage(string package, string id, string version, string dependency)
    {
        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains($"lib/net10.0/{id}.dll", entries);
        Assert.Contains($"lib/net10.0/{id}.xml", entries);
        using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var dependencies = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);
        Assert.Equal(version, dependencies["TypedSandbox"]);
        Assert.Contains(dependency, dependencies.Keys);
    }
}
