using System.IO.Compression;
using TypedSandbox.Testing;

namespace TypedSandbox.Packaging.Tests;

/// <summary>
/// Packs TypedSandbox and TypedSandbox.Server, then builds a throwaway app that references only the engine package:
/// its buildTransitive targets put the agent at agent/typedsandbox-agent in the app's output, where the engine looks
/// for it, and the app's own engine runs a sandbox with it.
/// </summary>
public sealed class PackedServerTests : IAsyncLifetime
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "typedsandbox-pack-server-" + Guid.NewGuid().ToString("N")[..12]);
    private LoopbackRegistry? _registry;

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
            <PackageReference Include="TypedSandbox.Server" Version="$(TypedSandboxVersion)" />
          </ItemGroup>
        </Project>
        """;

    // An engine of the app's own (state directory and registry mirror from the arguments) runs one exec in a sandbox:
    // the sandbox's agent is the one the package put next to the app.
    private const string ConsumerProgram = """
        using TypedSandbox;
        using TypedSandbox.Server.Hosting;
        using TypedSandbox.Server.Images;

        await using var engine = await EngineHost.StartAsync(new EngineOptions
        {
            Port = 0,
            StateDirectory = args[0],
            RegistryMirrors = [RegistryMirror.Parse(args[1])],
        });
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("packed-server", createIfMissing: true);
        await using var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"));
        var result = await sandbox.RunAsync(["echo", "agent-answered"]);
        Console.WriteLine(result.Stdout.Trim());
        """;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        _registry = await LoopbackRegistry.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task An_app_referencing_the_engine_package_gets_the_agent_where_the_engine_finds_it()
    {
        var (feed, version) = (SharedFeed.Directory, SharedFeed.Version);
        await SharedFeed.RuntimeAsync();
        var server = await SharedFeed.PackAsync("Server", "TypedSandbox.Server");
        using (var zip = ZipFile.OpenRead(server))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            Assert.Contains("tools/linux-x64/typedsandbox-agent", entries);
            Assert.Contains("buildTransitive/TypedSandbox.Server.targets", entries);
        }

        var app = Path.Combine(_work, "app");
        PackedConsumer.Write(app, feed, version, ConsumerProgram, ConsumerProject);
        await PackedConsumer.EnsureDotnetAsync(app, "build", "-c", "Release", "--packages", Path.Combine(app, "packages"));
        var output = Path.Combine(app, "bin", "Release", "net10.0");
        var state = Path.Combine(_work, "state");

        var run = await ExternalProcess.RunAsync(
            PackedConsumer.Dotnet, [Path.Combine(output, "app.dll"), state, _registry!.Url.ToString()], app, null, TimeSpan.FromMinutes(3));

        Assert.True(File.Exists(Path.Combine(output, "agent", "typedsandbox-agent")), "no agent/typedsandbox-agent in the app's output");
        Assert.True(run.ExitCode == 0, $"The app failed ({run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains(run.StdoutLines, l => l.Text == "agent-answered");
    }
}
