using Microsoft.CodeAnalysis;
using TypedSandbox.Generators.Tests.Infrastructure;

namespace TypedSandbox.Generators.Tests;

/// <summary>
/// Declarations that used to break the generated code or the generator itself. Each runs the generator and compiles
/// its output: the only errors left must be the TSB diagnostics the declaration deserves, never one in a generated file.
/// </summary>
public class GeneratorBugTests
{
    private const string Usings = """
        using System.Threading;
        using System.Threading.Tasks;
        using TypedSandbox;

        """;

    [Fact]
    public void Namespaces_that_differ_only_by_case_each_get_their_own_file()
    {
        var run = Run("""
            namespace Tools
            {
                [Sandbox]
                partial class Runner
                {
                    [Command("true")]
                    public partial Task<int> PingAsync();
                }
            }

            namespace tools
            {
                [Sandbox]
                partial class Runner
                {
                    [Command("false")]
                    public partial Task<int> PingAsync();
                }
            }
            """);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(2, run.GeneratedFiles.Count);
        Assert.Equal(2, run.GeneratedFiles.Select(f => f.ToUpperInvariant()).Distinct().Count());
        Assert.Empty(run.CompilerErrors);
    }

    [Fact]
    public void Parameters_named_sandbox_or_sandboxTask_compile_in_the_command_and_its_chained_form()
    {
        var run = Run("""
            [Sandbox]
            public partial class Runner
            {
                [Command("echo", "{sandbox}", "{sandboxTask}", "{Sandbox}")]
                public partial Task<ExecResult> EchoAsync(string sandbox, string sandboxTask, string Sandbox);
            }

            public static class Caller
            {
                public static Task<ExecResult> Chained() => Runner.CreateAsync().EchoAsync("a", "b", "c");
            }
            """);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilerErrors);
    }

    [Fact]
    public void A_user_written_DisposeAsync_is_kept_and_none_is_generated()
    {
        var run = Run("""
            [Sandbox]
            partial class Runner : System.IAsyncDisposable
            {
                public bool Disposed { get; private set; }

                public async ValueTask DisposeAsync()
                {
                    Disposed = true;
                    await Sandbox.DisposeAsync();
                }

                [Command("true")]
                public partial Task<int> PingAsync();
            }
            """);

        Assert.Empty(run.CompilerErrors);
        Assert.DoesNotContain("DisposeAsync()\n", run.GeneratedSource, StringComparison.Ordinal);
    }

    [Fact]
    public void A_command_without_an_access_modifier_gets_TSB0022_and_no_error_in_generated_code()
    {
        var run = Run("""
            [Sandbox]
            partial class Runner
            {
                [Command("true")]
                partial Task<int> PingAsync();
            }
            """);

        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "TSB0022" && d.GetMessage().Contains("no access modifier", StringComparison.Ordinal));
        Assert.Empty(run.ErrorsInGeneratedFiles);
    }

    [Fact]
    public void A_partial_record_gets_TSB0021()
    {
        var run = Run("""
            [Sandbox]
            partial record Runner
            {
                [Command("true")]
                public partial Task<int> PingAsync();
            }
            """);

        var diagnostic = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "TSB0021");
        Assert.Contains("is a record", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(run.ErrorsInGeneratedFiles);
    }

    [Fact]
    public void A_class_with_errors_still_gets_its_members_so_callers_and_commands_compile()
    {
        var run = Run("""
            [Sandbox(App = "my app", Timeout = "10 minutes")]
            [Volume("data", "v")]
            [Tag("bad key", "x")]
            partial class Broken
            {
                [Command("pytest", "{path}")]
                public partial Task<ExecResult> RunAsync(string path);

                [Command("echo", "{missing}")]
                public partial Task<int> EchoAsync(string text);

                [Command("true")]
                public partial Task<string[]> UnsupportedAsync();
            }

            [Sandbox]
            partial class Fine
            {
                [Command("echo", "{missing}")]
                public partial Task<int> EchoAsync(string text);
            }

            static class Caller
            {
                public static async Task<int> UseAsync()
                {
                    await using var broken = await Broken.CreateAsync();
                    var result = await broken.RunAsync("/tests");
                    await Broken.CreateAsync().RunAsync("/tests");
                    await using var fine = await Fine.CreateAsync();
                    return result.ExitCode + await fine.EchoAsync("x");
                }
            }
            """);

        // The analyzer reports these classes' errors; the generator leaves them alone and only makes the bodies throw.
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilerErrors);
        Assert.Contains("has TypedSandbox errors", run.GeneratedSource, StringComparison.Ordinal);
    }

    [Fact]
    public void A_class_the_generator_cannot_complete_has_its_errors_reported_by_the_generator()
    {
        var run = Run("""
            [Sandbox(Timeout = "10 minutes")]
            class NotPartial
            {
            }

            partial class Outer
            {
                [Sandbox(App = "my app")]
                partial class Nested
                {
                    [Command("echo", "{missing}")]
                    public partial Task<int> EchoAsync();
                }
            }

            [Sandbox]
            partial record Runner<T>
            {
                [Command("true")]
                public partial Task<int> PingAsync();
            }
            """);

        Assert.Equal(
            ["TSB0001", "TSB0003", "TSB0004", "TSB0015", "TSB0021", "TSB0021"],
            run.GeneratorDiagnostics.Select(d => d.Id).Order(StringComparer.Ordinal));
        Assert.All(run.GeneratorDiagnostics, d => Assert.True(d.Location.IsInSource, $"{d.Id} is not located in source"));

        // The commands of the nested class and the record still get (throwing) bodies: no CS8795 beside the TSB errors.
        Assert.Empty(run.CompilerErrors);
    }

    [Fact]
    public void Static_ref_and_params_commands_and_commands_outside_a_sandbox_class_get_throwing_bodies()
    {
        var run = Run("""
            [Sandbox]
            partial class Runner
            {
                [Command("true")]
                public static partial Task<int> StaticAsync();

                [Command("echo", "{value}")]
                public partial Task<int> RefAsync(ref int value);

                [Command("echo", "{values}")]
                public partial Task<int> ParamsAsync(params string[] values);
            }

            namespace Tools
            {
                partial class NotASandbox
                {
                    [Command("true")]
                    public partial Task<int> PingAsync();

                    [Command("echo", "{x}")]
                    public partial Task<int> PingAsync(int x);
                }
            }
            """);

        // The analyzer reports TSB0020 and TSB0022 here; nothing else may fail.
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilerErrors);
    }

    private static GeneratorRun Run(string source)
    {
        var compilation = TestCompilation.Create(Usings + source);
        TestCompilation.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        var generated = output.SyntaxTrees.Skip(compilation.SyntaxTrees.Length).ToList();
        return new GeneratorRun(
            diagnostics,
            output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList(),
            generated.Select(t => Path.GetFileName(t.FilePath)).ToList(),
            string.Join("\n", generated.Select(t => t.ToString())),
            generated.Select(t => t.FilePath).ToHashSet());
    }

    private sealed record GeneratorRun(
        IReadOnlyList<Diagnostic> GeneratorDiagnostics,
        IReadOnlyList<Diagnostic> CompilerErrors,
        IReadOnlyList<string> GeneratedFiles,
        string GeneratedSource,
        HashSet<string> GeneratedPaths)
    {
        public IEnumerable<Diagnostic> ErrorsInGeneratedFiles => CompilerErrors.Where(d => GeneratedPaths.Contains(d.Location.SourceTree?.FilePath ?? string.Empty));
    }
}
