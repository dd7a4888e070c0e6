using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using TypedSandbox.Generators.Parsing;

namespace TypedSandbox.Generators.Analyzers
{
    /// <summary>Reports every TypedSandbox rule (TSB0001…) on [Sandbox] classes and [Command] methods as you type.</summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class SandboxAnalyzer : DiagnosticAnalyzer
    {
        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = typeof(DiagnosticDescriptors)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetValue(null))
            .OfType<DiagnosticDescriptor>()
            .ToImmutableArray();

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterSymbolAction(
                static symbolContext => SandboxChecks.CheckClass((INamedTypeSymbol)symbolContext.Symbol, new Sink(symbolContext), symbolContext.CancellationToken),
                SymbolKind.NamedType);
            context.RegisterSymbolAction(
                static symbolContext => SandboxChecks.CheckCommand((IMethodSymbol)symbolContext.Symbol, new Sink(symbolContext), symbolContext.CancellationToken),
                SymbolKind.Method);
        }

        private sealed class Sink : IProblemSink
        {
            private readonly SymbolAnalysisContext context;

            public Sink(SymbolAnalysisContext context)
            {
                this.context = context;
            }

            public void Report(DiagnosticDescriptor descriptor, ProblemTarget target, ImmutableDictionary<string, string?>? properties, params object?[] messageArgs)
            {
                var location = ArgumentLocator.Locate(target, context.CancellationToken);
                context.ReportDiagnostic(Diagnostic.Create(descriptor, location, properties, messageArgs));
            }
        }
    }
}
