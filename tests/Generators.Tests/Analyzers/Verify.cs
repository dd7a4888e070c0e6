using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using TypedSandbox.Generators.Analyzers;
using TypedSandbox.Generators.Tests.Infrastructure;

namespace TypedSandbox.Generators.Tests.Analyzers;

/// <summary>Runs <see cref="SandboxAnalyzer"/> and the code fixes through Microsoft.CodeAnalysis.Testing against .NET 10 references.</summary>
internal static class Verify
{
    public const string Usings = """
        using System.Threading;
        using System.Threading.Tasks;
        using TypedSandbox;

        """;

    /// <summary>An expected error by id (the descriptors are internal to the generator assembly).</summary>
    public static DiagnosticResult Error(string id) => new(id, DiagnosticSeverity.Error);

    /// <summary>Checks that <paramref name="source"/> (markup: <c>{|TSB0003:text|}</c>) produces exactly the marked diagnostics.</summary>
    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest { TestCode = Usings + source };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Applies <typeparamref name="TCodeFix"/> one diagnostic at a time and all at once, expecting <paramref name="fixedSource"/>.</summary>
    public static Task CodeFixAsync<TCodeFix>(string source, string fixedSource, int fixes = 1)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CodeFixTest<TCodeFix>
        {
            TestCode = Usings + source,
            FixedCode = Usings + fixedSource,
            NumberOfIncrementalIterations = fixes,
            NumberOfFixAllIterations = Math.Min(fixes, 1),
        };
        return test.RunAsync();
    }

    /// <summary>Checks that <typeparamref name="TCodeFix"/> offers nothing for the marked diagnostics.</summary>
    public static Task NoCodeFixAsync<TCodeFix>(string source)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CodeFixTest<TCodeFix> { TestCode = Usings + source, FixedCode = Usings + source };
        test.FixedState.MarkupHandling = MarkupMode.Allow;
        return test.RunAsync();
    }

    private static void Configure(SolutionState state)
    {
        state.AdditionalReferences.AddRange(TestCompilation.References);
    }

    // No reference packages are downloaded: .NET 10's reference assemblies come from Basic.Reference.Assemblies.
    private static readonly ReferenceAssemblies NoPackages = new("net10.0");

    private sealed class AnalyzerTest : CSharpAnalyzerTest<SandboxAnalyzer, DefaultVerifier>
    {
        public AnalyzerTest()
        {
            ReferenceAssemblies = NoPackages;
            Configure(TestState);
            // The generator runs too: it reports the errors of declarations it cannot complete (SandboxChecks.GeneratorReportsClass).
            // The compiler's own errors are not under test.
            CompilerDiagnostics = CompilerDiagnostics.None;
            // Generator diagnostics point at a file and span, which '#pragma warning disable' does not reach.
            TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck | TestBehaviors.SkipSuppressionCheck;
        }

        protected override IEnumerable<Type> GetSourceGenerators() => [typeof(SandboxGenerator)];

        protected override ParseOptions CreateParseOptions() => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
    }

    private sealed class CodeFixTest<TCodeFix> : CSharpCodeFixTest<SandboxAnalyzer, TCodeFix, DefaultVerifier>
        where TCodeFix : CodeFixProvider, new()
    {
        public CodeFixTest()
        {
            ReferenceAssemblies = NoPackages;
            Configure(TestState);
            Configure(FixedState);
            CompilerDiagnostics = CompilerDiagnostics.None;
            // Generator diagnostics point at a file and span, which '#pragma warning disable' does not reach.
            TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck | TestBehaviors.SkipSuppressionCheck;
        }

        protected override IEnumerable<Type> GetSourceGenerators() => [typeof(SandboxGenerator)];

        protected override ParseOptions CreateParseOptions() => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
    }
}
