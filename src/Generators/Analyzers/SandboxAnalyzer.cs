using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using TypedSandbox.Generators.Parsing;

namespace TypedSandbox.Generators.Analyzers;

/// <summary>Reports every TypedSandbox rule (TSB0001…) on [Sandbox] classes and [Command] methods as you type.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SandboxAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = DiagnosticDescriptors.All.Values.OrderBy(d => d.Id, System.StringComparer.Ordinal).ToImmutableArray();

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            // The attribute types are resolved once per compilation; a compilation without them has nothing to check.
            var known = KnownAttributes.From(start.Compilation);
            if (!known.Any)
            {
                return;
            }

            // Errors of declarations the generator cannot complete are the generator's to report (see SandboxChecks.GeneratorReportsClass).
            start.RegisterSymbolAction(
                symbolContext =>
                {
                    var type = (INamedTypeSymbol)symbolContext.Symbol;
                    var sink = new Sink(symbolContext, () => !SandboxChecks.GeneratorReportsClass(type, symbolContext.CancellationToken));
                    SandboxChecks.CheckClass(type, known, sink, symbolContext.CancellationToken);
                },
                SymbolKind.NamedType);
            start.RegisterSymbolAction(
                symbolContext =>
                {
                    var method = (IMethodSymbol)symbolContext.Symbol;
                    var sink = new Sink(symbolContext, () => !SandboxChecks.GeneratorReportsCommand(method, known, symbolContext.CancellationToken));
                    SandboxChecks.CheckCommand(method, known, sink, symbolContext.CancellationToken);
                },
                SymbolKind.Method);
        });
    }

    private sealed class Sink : IProblemSink
    {
        private readonly SymbolAnalysisContext _context;
        private readonly System.Lazy<bool> _errors;

        // Decided on the first problem only: most symbols have no TypedSandbox attribute and never get here.
        public Sink(SymbolAnalysisContext context, System.Func<bool> reportsErrors)
        {
            _context = context;
            _errors = new System.Lazy<bool>(reportsErrors);
        }

        public void Report(DiagnosticDescriptor descriptor, ProblemTarget target, ImmutableDictionary<string, string?>? properties, params object?[] messageArgs)
        {
            if (descriptor.DefaultSeverity == DiagnosticSeverity.Error && !_errors.Value)
            {
                return;
            }

            var location = ArgumentLocator.Locate(target, _context.CancellationToken);
            _context.ReportDiagnostic(Diagnostic.Create(descriptor, location, properties, messageArgs));
        }
    }
}
