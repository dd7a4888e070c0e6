using System.Collections.Immutable;

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

    /// <inheritdoc/>
    public sealed override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is not null)
        {
            Register(context, root);
        }
    }

    /// <summary>Registers the fixes of <paramref name="context"/>'s diagnostics in the document whose syntax is <paramref name="root"/>.</summary>
    private protected abstract void Register(CodeFixContext context, SyntaxNode root);
}
