using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
namespace TypedSandbox.Generators.Tests.Analyzers;

/// <summary>Every diagnostic with a case that passes and a case that fails, located at the faulty argument.</summary>
public class SandboxAnalyzerTests
{
    [Fact]
    public Task The_card_example_has_no_diagnostics() => Verify.AnalyzerAsync("""
        [Sandbox(App = "my-app", Timeout = "10m")]
        [SandboxImage("python:3.13-slim")]
        [Volume("/data", "my-volume")]
        [Secret("my-secret")]
        partial class TestRunner
        {
            [Command("pytest", "-q", "{path}")]
            public partial Task<ExecResult> RunTestsAsync(string path);
        }
        """);

    [Fact]
    public Task A_full_valid_declaration_has_no_diagnostics() => Verify.AnalyzerAsync("""
        [Sandbox(App = "tools", Name = "b.1", Timeout = "1h30m", IdleTimeout = "10m", Workdir = "/work", Cpu = 0.5, MemoryMb = 512,
            CidrAllowlist = new[] { "10.0.0.0/8" }, EncryptedPorts = new[] { 443 }, UnencryptedPorts = new[] { 8080 })]
        [SandboxImage("ghcr.io/org/img:1", Env = new[] { "A_B=c=d" }, Workdir = "/work")]
        [Volume("/a", "va")]
        [Volume("/b", "vb", ReadOnly = true)]
        [Secret("s-1")]
        [SecretFromEnvironment("API_KEY", "_X1")]
        [Tag("team", "ml")]
        [Tag("k8s.io/name", "")]
        [Entrypoint("sleep", "infinity")]
        public partial class Builder
        {
            [Command("make", "-C", "{dir}", "J={jobs}", "{{x}}", Timeout = "1h", Workdir = "/build/src")]
            public partial Task<ExecResult> BuildAsync(string dir, int jobs, CancellationToken cancellationToken);

            [Command("tail", "{file}")]
            public partial Task<ContainerProcess> FollowAsync(string file);

            [Command("true")]
            internal partial Task<int> PingAsync(CancellationToken cancellationToken = default);
        }
        """);

    [Fact]
    public Task TSB0001_class_not_partial() => Verify.AnalyzerAsync("""
        [Sandbox]
        public sealed class {|TSB0001:Runner|}
        {
        }
        """);

    [Fact]
    public Task TSB0002_method_not_partial() => Verify.AnalyzerAsync("""
        [Sandbox]
        partial class Runner
        {
            [Command("true")]
            public Task<int> {|TSB0002:PingAsync|}();

            [Command("true")]
            public partial Task<int> FineAsync();
        }
        """);

    [Fact]
    public Task TSB0003_invalid_names() => Verify.AnalyzerAsync("""
        [Sandbox(App = {|TSB0003:"my app"|}, Name = {|TSB0003:"a/b"|})]
        [Volume("/data", {|TSB0003:"vol ume"|})]
        [Volume("/ok", "ok-volume")]
        [Secret({|TSB0003:""|})]
        [Secret("fine.secret_1")]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task TSB0003_message_says_what_is_wrong_and_what_is_allowed() => Verify.AnalyzerAsync(
        """
        [Sandbox(Name = {|#0:"my name"|})]
        partial class Runner
        {
        }
        """,
        Verify.Error("TSB0003").WithLocation(0)
            .WithArguments("Sandbox name 'my name' contains ' '; use letters, digits, '-', '_' and '.' (at most 63 characters)"));

    [Fact]
    public Task TSB0004_invalid_timeouts() => Verify.AnalyzerAsync("""
        [Sandbox(Timeout = {|TSB0004:"0s"|}, IdleTimeout = {|TSB0004:"-5m"|})]
        partial class A
        {
            [Command("true", Timeout = {|TSB0004:"ten"|})]
            public partial Task<int> PingAsync();
        }

        [Sandbox(Timeout = {|TSB0004:"25h"|})]
        partial class B
        {
        }

        [Sandbox(Timeout = "24h", IdleTimeout = "1s")]
        partial class C
        {
        }
        """);

    [Fact]
    public Task TSB0005_timeout_not_canonical() => Verify.AnalyzerAsync("""
        [Sandbox(Timeout = {|TSB0005:"90s"|}, IdleTimeout = "1m30s")]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task TSB0006_idle_timeout_longer_than_timeout() => Verify.AnalyzerAsync("""
        [Sandbox(Timeout = "10m", IdleTimeout = {|TSB0006:"20m"|})]
        partial class A
        {
        }

        [Sandbox(IdleTimeout = {|TSB0006:"10m"|})]
        partial class DefaultTimeoutIsFiveMinutes
        {
        }

        [Sandbox(Timeout = "10m", IdleTimeout = "10m")]
        partial class Fine
        {
        }
        """);

    [Fact]
    public Task TSB0007_command_timeout_longer_than_sandbox_timeout() => Verify.AnalyzerAsync("""
        [Sandbox(Timeout = "10m")]
        partial class Runner
        {
            [Command("sleep", "3600", Timeout = {|TSB0007:"1h"|})]
            public partial Task<int> SleepAsync();

            [Command("sleep", "60", Timeout = "10m")]
            public partial Task<int> ShortAsync();
        }

        [Sandbox]
        partial class DefaultTimeout
        {
            [Command("sleep", "600", Timeout = {|TSB0007:"6m"|})]
            public partial Task<int> SleepAsync();
        }
        """);

    [Fact]
    public Task TSB0008_invalid_tags() => Verify.AnalyzerAsync("""
        [Sandbox]
        [Tag({|TSB0008:"bad key"|}, "v")]
        [Tag("line", {|TSB0008:"a\nb"|})]
        [Tag("fine", "any text at all")]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task TSB0009_duplicate_tag_key() => Verify.AnalyzerAsync("""
        [Sandbox]
        [Tag("team", "ml")]
        [Tag("other", "x")]
        [Tag({|TSB0009:"team"|}, "infra")]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task TSB0010_invalid_mount_paths() => Verify.AnalyzerAsync("""
        [Sandbox]
        [Volume({|TSB0010:"data"|}, "a")]
        [Volume({|TSB0010:"/"|}, "b")]
        [Volume({|TSB0010:"/data/"|}, "c")]
        [Volume({|TSB0010:"/x/../y"|}, "d")]
        [Volume("/data", "e")]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task TSB0011_duplicate_mount_path() => Verify.AnalyzerAsync("""
        [Sandbox]
        [Volume("/data", "a")]
        [Volume({|TSB0011:"/data"|}, "b")]
        [Volume("/other", "a")]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task TSB0012_invalid_environment_keys() => Verify.AnalyzerAsync("""
        [Sandbox]
        [SandboxImage("python:3", Env = new[] { "GOOD=1", {|TSB0012:"1BAD=2"|}, {|TSB0012:"NOEQUALS"|} })]
        [SecretFromEnvironment("API_KEY", {|TSB0012:"MY-KEY"|})]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task TSB0012_located_in_collection_expressions() => Verify.AnalyzerAsync("""
        [Sandbox]
        [SandboxImage("python:3", Env = ["GOOD=1", {|TSB0012:"BAD KEY=2"|}])]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task TSB0013_relative_workdirs() => Verify.AnalyzerAsync("""
        [Sandbox(Workdir = {|TSB0013:"app"|})]
        [SandboxImage("python:3", Workdir = {|TSB0013:"./src"|})]
        partial class Runner
        {
            [Command("ls", Workdir = {|TSB0013:"tmp"|})]
            public partial Task<int> ListAsync();

            [Command("ls", Workdir = "/tmp")]
            public partial Task<int> ListTmpAsync();
        }
        """);

    [Fact]
    public Task TSB0014_malformed_image_reference() => Verify.AnalyzerAsync("""
        [Sandbox]
        [SandboxImage({|TSB0014:"Python:3.13 slim"|})]
        partial class A
        {
        }

        [Sandbox]
        [SandboxImage("localhost:5000/team/python:3.13-slim")]
        partial class B
        {
        }
        """);

    [Fact]
    public Task TSB0015_placeholder_without_parameter() => Verify.AnalyzerAsync(
        """
        [Sandbox]
        partial class Runner
        {
            [Command("pytest", {|#0:"{paht}"|})]
            public partial Task<int> TestAsync(string {|TSB0016:path|});

            [Command("pytest", "{path}")]
            public partial Task<int> FineAsync(string path);
        }
        """,
        Verify.Error("TSB0015").WithLocation(0).WithArguments("paht", "TestAsync", "{path}"));

    [Fact]
    public Task TSB0015_cancellation_tokens_are_not_placeholders() => Verify.AnalyzerAsync("""
        [Sandbox]
        partial class Runner
        {
            [Command("echo", {|TSB0015:"{cancellationToken}"|})]
            public partial Task<int> EchoAsync(CancellationToken cancellationToken);
        }
        """);

    [Fact]
    public Task TSB0016_parameter_without_placeholder() => Verify.AnalyzerAsync("""
        [Sandbox]
        partial class Runner
        {
            [Command("pytest", "-q")]
            public partial Task<int> TestAsync(string {|TSB0016:path|}, CancellationToken cancellationToken);
        }
        """);

    [Fact]
    public Task TSB0017_malformed_command_line() => Verify.AnalyzerAsync("""
        [Sandbox]
        [{|TSB0017:Entrypoint()|}]
        partial class Runner
        {
            [Command("echo", {|TSB0017:"{path"|})]
            public partial Task<int> EchoAsync(string path);

            [{|TSB0017:Command()|}]
            public partial Task<int> NothingAsync();

            [Command("echo", "{{literal}}")]
            public partial Task<int> FineAsync();
        }
        """);

    [Fact]
    public Task TSB0018_unsupported_return_type() => Verify.AnalyzerAsync("""
        [Sandbox]
        partial class Runner
        {
            [Command("true")]
            public partial {|TSB0018:System.Collections.Generic.IEnumerable<string>|} LinesAsync();

            [Command("true")]
            public partial {|TSB0018:ValueTask<int>|} ValueAsync();

            [Command("true")]
            public partial {|TSB0018:Task<Task<int>>|} NestedAsync();

            [Command("true")]
            public partial Task<string> TextAsync();

            [Command("true")]
            public partial Task<int> FineAsync();
        }
        """);

    [Fact]
    public Task TSB0019_block_network_with_allow_list_or_tunnels() => Verify.AnalyzerAsync("""
        [Sandbox(BlockNetwork = {|TSB0019:true|}, CidrAllowlist = new[] { "10.0.0.0/8" })]
        partial class A
        {
        }

        [Sandbox(BlockNetwork = {|TSB0019:true|}, EncryptedPorts = new[] { 443 })]
        partial class B
        {
        }

        [Sandbox(BlockNetwork = true)]
        partial class C
        {
        }
        """);

    [Fact]
    public Task TSB0027_json_context_that_is_not_a_JsonSerializerContext() => Verify.AnalyzerAsync("""
        [Sandbox(JsonContext = {|TSB0027:typeof(NotAContext)|})]
        partial class A
        {
            [Command("report")]
            public partial Task<Report> ReportAsync();
        }

        sealed class NotAContext
        {
            public static NotAContext Default { get; } = new();
        }

        sealed record Report(int Passed);
        """);

    [Fact]
    public Task TSB0020_command_outside_sandbox_class() => Verify.AnalyzerAsync("""
        partial class NotASandbox
        {
            [{|TSB0020:Command("true")|}]
            public partial Task<int> PingAsync();
        }
        """);

    [Fact]
    public Task TSB0021_unsupported_sandbox_class() => Verify.AnalyzerAsync("""
        partial class Outer
        {
            [Sandbox]
            partial class {|TSB0021:Nested|}
            {
            }
        }

        [Sandbox]
        partial class {|TSB0021:Generic|}<T>
        {
        }

        [Sandbox]
        static partial class {|TSB0021:Static|}
        {
        }

        [Sandbox]
        abstract partial class {|TSB0021:Abstract|}
        {
        }

        [Sandbox]
        partial record {|TSB0021:Record|}
        {
            [Command("true")]
            public partial Task<int> PingAsync();
        }
        """);

    [Fact]
    public Task TSB0022_unsupported_command_method() => Verify.AnalyzerAsync("""
        [Sandbox]
        partial class Runner
        {
            [Command("true")]
            public static partial Task<int> {|TSB0022:StaticAsync|}();

            [Command("echo", "{value}")]
            public partial Task<int> {|TSB0022:GenericAsync|}<T>(T value);

            [Command("echo", "{values}")]
            public partial Task<int> {|TSB0022:ParamsAsync|}(params string[] values);

            [Command("echo", "{value}")]
            public partial Task<int> {|TSB0022:RefAsync|}(ref int value);

            [Command("echo", "{value}")]
            public partial Task<int> FineAsync(int value);

            [Command("true")]
            partial Task<int> {|TSB0022:NoAccessModifierAsync|}();
        }
        """);

    [Fact]
    public Task TSB0017_entrypoint_with_a_placeholder_or_unmatched_brace() => Verify.AnalyzerAsync("""
        [Sandbox]
        [Entrypoint("echo", {|TSB0017:"{name}"|})]
        partial class A
        {
        }

        [Sandbox]
        [Entrypoint("echo", {|TSB0017:"}"|})]
        partial class B
        {
        }

        [Sandbox]
        [Entrypoint("echo", "{{literal}}")]
        partial class Fine
        {
        }
        """);

    [Fact]
    public Task Typed_parameters_and_every_result_form_have_no_diagnostics() => Verify.AnalyzerAsync("""
        public sealed record Report(int Passed);

        [Sandbox]
        partial class Runner
        {
            [Command("pytest", "{files}", "--maxfail={maxFail}", Env = new[] { "CI=1" }, Secrets = new[] { "pypi" })]
            public partial Task RunAsync(string[] files, int? maxFail = null, [Option("-k")] string? filter = null, [Option("-v")] bool verbose = false);

            [Command("cat")]
            public partial Task<string> CatAsync([Stdin] byte[] input, [Env("TOKEN")] string token);

            [Command("report")]
            public partial Task<Report> ReportAsync(CancellationToken cancellationToken);

            [Command("seq", "3")]
            public partial System.Collections.Generic.IAsyncEnumerable<string> LinesAsync();

            [Command("events")]
            public partial System.Collections.Generic.IAsyncEnumerable<Report> EventsAsync();
        }
        """);

    [Fact]
    public Task TSB0025_collection_placeholder_inside_a_longer_argument() => Verify.AnalyzerAsync("""
        [Sandbox]
        partial class Runner
        {
            [Command("pytest", {|TSB0025:"--files={files}"|}, "{files}")]
            public partial Task RunAsync(string[] files);
        }
        """);

    [Fact]
    public Task TSB0026_unsupported_stdin_option_or_two_ways() => Verify.AnalyzerAsync("""
        [Sandbox]
        partial class Runner
        {
            [Command("cat")]
            public partial Task<string> A([Stdin] int {|TSB0026:number|});

            [Command("cat")]
            public partial Task<string> B([Stdin] string first, [Stdin] string {|TSB0026:second|});

            [Command("cat")]
            public partial Task<string> C([Option("")] string? {|TSB0026:empty|} = null);

            [Command("cat")]
            public partial Task<string> D([Option("-x"), Env("X")] string? {|TSB0026:both|} = null);

            [Command("cat")]
            public partial Task<string> E([Env("1BAD")] string? {|TSB0012:bad|} = null);
        }
        """);

    [Fact]
    public Task TSB0024_program_with_whitespace_is_a_warning() => Verify.AnalyzerAsync(
        """
        [Sandbox]
        [Entrypoint({|#1:"python -m http.server"|})]
        partial class Runner
        {
            [Command({|#0:"ls -la {dir}"|})]
            public partial Task<int> ListAsync(string dir);

            [Command("ls", "-la", "{dir}")]
            public partial Task<int> FineAsync(string dir);
        }
        """,
        new DiagnosticResult("TSB0024", DiagnosticSeverity.Warning).WithLocation(0)
            .WithArguments("ls -la {dir}", "\"ls\", \"-la\", \"{dir}\""),
        new DiagnosticResult("TSB0024", DiagnosticSeverity.Warning).WithLocation(1)
            .WithArguments("python -m http.server", "\"python\", \"-m\", \"http.server\""));

    [Fact]
    public Task TSB0023_invalid_resources() => Verify.AnalyzerAsync("""
        [Sandbox(Cpu = {|TSB0023:-1|}, MemoryMb = {|TSB0023:-512|}, EncryptedPorts = new[] { 443, {|TSB0023:70000|} })]
        partial class A
        {
        }

        [Sandbox(Cpu = 2, MemoryMb = 1024, UnencryptedPorts = new[] { 1, 65535 })]
        partial class B
        {
        }
        """);

    [Fact]
    public Task TSB0023_resources_below_the_kernel_floors_and_ports_declared_twice() => Verify.AnalyzerAsync("""
        [Sandbox(Cpu = {|TSB0023:0.005|}, MemoryMb = {|TSB0023:2|}, EncryptedPorts = new[] { 8000 }, UnencryptedPorts = new[] { {|TSB0023:8000|} })]
        partial class A
        {
        }

        [Sandbox(Cpu = 0.01, MemoryMb = 4, EncryptedPorts = new[] { 8000 }, UnencryptedPorts = new[] { 8001 })]
        partial class B
        {
        }
        """);

    [Fact]
    public Task TSB0028_invalid_cidr() => Verify.AnalyzerAsync("""
        [Sandbox(CidrAllowlist = new[] { "10.0.0.0/8", {|TSB0028:"10.1/8"|}, "fd00::/8", {|TSB0028:"10.0.0.0/33"|}, {|TSB0028:"10.0.0.0"|} })]
        partial class A
        {
        }
        """);

    [Fact]
    public void Every_descriptor_has_a_unique_id_and_a_help_link()
    {
        var descriptors = new Generators.Analyzers.SandboxAnalyzer().SupportedDiagnostics;
        Assert.Equal(28, descriptors.Length);
        Assert.Equal(descriptors.Length, descriptors.Select(d => d.Id).Distinct().Count());
        Assert.All(descriptors, d =>
        {
            Assert.Matches("^TSB00[0-9]{2}$", d.Id);
            Assert.EndsWith("docs/diagnostics.md#" + d.Id.ToLowerInvariant(), d.HelpLinkUri, StringComparison.Ordinal);
        });
    }
}
