using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;

namespace TypedSandbox.Generators.CodeFixes;

/// <summary>A TypedSandbox code fix: it fixes the diagnostics it is made with, one at a time or all at once (batch).</summary>
public abstract class TsbCodeFix : CodeFixProvider
{
    /// <summary>Creates the fix for <paramref name="fixes"/>.</summary>
    private protected TsbCodeFix(params DiagnosticDescriptor[] fixes) =>
        FixableDiagnosticIds = fixes.Select(d => d.Id).ToImmutableArray();

    /// <inheritdoc/>
    public sealed override ImmutableArray<string> FixableDiagnosticIds { get; }

    /// <inheritdoc/>
    public sealed override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;
}
