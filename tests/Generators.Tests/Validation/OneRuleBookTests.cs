using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using TypedSandbox.Generators.Analyzers;
using TypedSandbox.Generators.Tests.Infrastructure;
using TypedSandbox.Sandboxes;
using TypedSandbox.Server.Sandboxes;
using DslDefinition = TypedSandbox.Dsl.SandboxDefinition;

namespace TypedSandbox.Generators.Tests.Validation;

/// <summary>
/// One bad value, one message: the analyzer (at compile time), the DSL and the client (before anything is sent) and the
/// engine (before anything is started) run the rule book's composite check and say the same thing.
/// </summary>
public class OneRuleBookTests
{
    /// <summary>A bad value as each side declares it, and the message all of them must give.</summary>
    public sealed record BadValue(
        string Attributes,
        Func<SandboxCreateOptions> Client,
        Func<SandboxSpec> Engine,
        Func<DslDefinition> Dsl,
        string Message)
    {
        public override string ToString() => Attributes;
    }

    public static TheoryData<BadValue> Cases => new()
    {
        new BadValue(
            "[Sandbox(Name = \"my name\")]",
            () => new() { Name = "my name" },
            () => Spec() with { Name = "my name" },
            () => new() { Name = "my name" },
            "Sandbox name 'my name' contains ' '; use letters, digits, '-', '_' and '.' (at most 63 characters)"),
        new BadValue(
            "[Sandbox(Timeout = \"25h\")]",
            () => new() { Timeout = TimeSpan.FromHours(25) },
            () => Spec() with { Timeout = TimeSpan.FromHours(25) },
            () => new() { Timeout = "25h" },
            "Timeout '25h' is longer than the maximum of 24 hours; use a duration greater than zero and at most 24h, such as '90s', '10m' or '1h30m'"),
        new BadValue(
            "[Sandbox(Timeout = \"10m\", IdleTimeout = \"20m\")]",
            () => new() { Timeout = TimeSpan.FromMinutes(10), IdleTimeout = TimeSpan.FromMinutes(20) },
            () => Spec() with { Timeout = TimeSpan.FromMinutes(10), IdleTimeout = TimeSpan.FromMinutes(20) },
            () => new() { Timeout = "10m", IdleTimeout = "20m" },
            "Idle timeout '20m' is longer than the sandbox timeout '10m'; use at most '10m'"),
        new BadValue(
            "[Sandbox(IdleTimeout = \"6m\")]",
            () => new() { IdleTimeout = TimeSpan.FromMinutes(6) },
            () => Spec() with { IdleTimeout = TimeSpan.FromMinutes(6) },
            () => new() { IdleTimeout = "6m" },
            "Idle timeout '6m' is longer than the sandbox timeout '5m'; use at most '5m'"),
        new BadValue(
            "[Sandbox(Workdir = \"app\")]",
            () => new() { Workdir = "app" },
            () => Spec() with { Workdir = "app" },
            () => new() { Workdir = "app" },
            "Workdir 'app' is not absolute; use an absolute path such as '/app'"),
        new BadValue(
            "[Sandbox(Cpu = 0.005)]",
            () => new() { Cpu = 0.005 },
            () => Spec() with { MilliCpu = 5 },
            () => new() { Cpu = 0.005 },
            "Cpu 0.005 is below the minimum of 0.01 CPU; use 0.01 or more, or 0 for the default"),
        new BadValue(
            "[Sandbox(MemoryMb = 2)]",
            () => new() { MemoryMiB = 2 },
            () => Spec() with { MemoryMb = 2 },
            () => new() { MemoryMb = 2 },
            "Memory 2 MiB is below the 4 MiB minimum; use a number of MiB such as 512, or 0 for the default"),
        new BadValue(
            "[Sandbox(EncryptedPorts = new[] { 70000 })]",
            () => new() { EncryptedPorts = [70000] },
            () => Spec() with { Ports = [70000] },
            () => new() { EncryptedPorts = [70000] },
            "Port 70000 is out of range; use 1 to 65535"),
        new BadValue(
            "[Sandbox(EncryptedPorts = new[] { 8000 }, UnencryptedPorts = new[] { 8000 })]",
            () => new() { EncryptedPorts = [8000], UnencryptedPorts = [8000] },
            () => Spec() with { Ports = [8000, 8000] },
            () => new() { EncryptedPorts = [8000], UnencryptedPorts = [8000] },
            "Port 8000 is declared twice; list each port once (encrypted, unencrypted or h2)"),
        new BadValue(
            "[Sandbox, Tag(\"bad key\", \"v\")]",
            () => new() { Tags = new Dictionary<string, string> { ["bad key"] = "v" } },
            () => Spec() with { Tags = new Dictionary<string, string> { ["bad key"] = "v" } },
            () => new() { Tags = new Dictionary<string, string> { ["bad key"] = "v" } },
            "Tag key 'bad key' contains ' '; use letters, digits, '-', '_', '.' and '/' (at most 63 characters)"),
        new BadValue(
            "[Sandbox, Volume(\"/proc/x\", \"v\")]",
            () => new() { Volumes = new Dictionary<string, Volume> { ["/proc/x"] = new("vo-1", "v") } },
            () => Spec() with { Volumes = [new VolumeMountSpec("vo-1", "/proc/x", false)] },
            () => new() { Volumes = [new TypedSandbox.Dsl.VolumeMount("/proc/x", "v")] },
            "Mount path '/proc/x' is at or below '/proc', which the sandbox's runtime owns; mount outside /.typedsandbox, /proc, /sys, /dev (such as '/data')"),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_analyzer_the_DSL_the_client_and_the_engine_give_one_message(BadValue bad)
    {
        Assert.Equal([bad.Message], await AnalyzerMessagesAsync(bad.Attributes));
        Assert.Equal(bad.Message, Assert.Throws<InvalidArgumentException>(bad.Dsl().Validate).Message);
        Assert.Equal(bad.Message, Assert.Throws<InvalidArgumentException>(() => SandboxOptionRules.Validate(bad.Client())).Message);
        Assert.Equal(bad.Message, EngineMessage(bad.Engine()));
    }

    [Fact]
    public async Task Every_problem_is_reported_not_only_the_first()
    {
        const string Both = "Sandbox name 'my name' contains ' '; use letters, digits, '-', '_' and '.' (at most 63 characters)\n"
            + "Workdir 'app' is not absolute; use an absolute path such as '/app'";

        Assert.Equal(Both.Split('\n'), await AnalyzerMessagesAsync("[Sandbox(Name = \"my name\", Workdir = \"app\")]"));
        Assert.Equal(Both, Assert.Throws<InvalidArgumentException>(new DslDefinition { Name = "my name", Workdir = "app" }.Validate).Message);
        Assert.Equal(Both, Assert.Throws<InvalidArgumentException>(() => SandboxOptionRules.Validate(new() { Name = "my name", Workdir = "app" })).Message);
        Assert.Equal(Both, EngineMessage(Spec() with { Name = "my name", Workdir = "app" }));
    }

    [Fact]
    public async Task A_bad_CIDR_gets_Modals_message_from_the_analyzer_the_DSL_and_the_client()
    {
        const string Message = "Invalid CIDR: 10.0.0.0";

        Assert.Equal([Message], await AnalyzerMessagesAsync("[Sandbox(CidrAllowlist = new[] { \"10.0.0.0\" })]"));
        Assert.Equal(Message, Assert.Throws<InvalidArgumentException>(new DslDefinition { CidrAllowlist = ["10.0.0.0"] }.Validate).Message);
        Assert.Equal(Message, Assert.Throws<InvalidArgumentException>(() => SandboxOptionRules.Validate(new() { CidrAllowlist = ["10.0.0.0"] })).Message);
    }

    [Fact]
    public void The_engine_accepts_what_the_rule_book_accepts()
    {
        var spec = Spec() with
        {
            Name = "ok",
            Timeout = TimeSpan.FromHours(24),
            IdleTimeout = TimeSpan.FromMinutes(1),
            Workdir = "/app",
            MemoryMb = 4,
            MilliCpu = 10,
            Ports = [8000, 8001],
            Tags = new Dictionary<string, string> { ["team/a"] = "x" },
        };

        Assert.Null(EngineMessage(spec));
    }

    private static SandboxSpec Spec() => new() { AppId = "ap-1", ImageId = "im-1" };

    /// <summary>
    /// The engine's own check (<c>SandboxSpecRules.Validate</c>, internal to the engine; its name and signature are
    /// the engine core's contract), reached by reflection because this project sees the rule book through the client.
    /// </summary>
    private static string? EngineMessage(SandboxSpec spec)
    {
        var validate = typeof(SandboxSpec).Assembly.GetType("TypedSandbox.Server.Sandboxes.SandboxSpecRules", throwOnError: true)!
            .GetMethod("Validate", BindingFlags.Public | BindingFlags.Static, [typeof(SandboxSpec)])!;
        try
        {
            validate.Invoke(null, [spec]);
            return null;
        }
        catch (TargetInvocationException e) when (e.InnerException?.GetType().FullName == "TypedSandbox.Server.Engine.EngineException")
        {
            // The engine's exception type is internal to it, like its rules: its kind is read the same way.
            var engine = e.InnerException!;
            Assert.Equal("InvalidArgument", engine.GetType().GetProperty("Kind", BindingFlags.Public | BindingFlags.Instance)!.GetValue(engine)!.ToString());
            return engine.Message;
        }
    }

    private static async Task<string[]> AnalyzerMessagesAsync(string attributes)
    {
        var compilation = TestCompilation.Create($$"""
            using TypedSandbox;

            {{attributes}}
            partial class Declared
            {
            }
            """);
        var diagnostics = await compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new SandboxAnalyzer()))
            .GetAnalyzerDiagnosticsAsync();
        return [.. diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).OrderBy(d => d.Location.SourceSpan.Start).Select(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture))];
    }
}
