using System.Composition;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace TypedSandbox.Generators.CodeFixes;

/// <summary>Rewrites a timeout into canonical form: "90s" → "1m30s" (TSB0005), "10 min" → "10m" (TSB0004 when the intent is clear).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(CanonicalTimeoutCodeFix)), Shared]
public sealed class CanonicalTimeoutCodeFix : TsbCodeFix
{
    /// <summary>Creates the fix.</summary>
    public CanonicalTimeoutCodeFix() : base(DiagnosticDescriptors.InvalidTimeout, DiagnosticDescriptors.TimeoutNotCanonical) { }

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(DiagnosticDescriptors.CanonicalProperty, out var canonical) || canonical is null
                || root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not LiteralExpressionSyntax literal)
            {
                continue;
            }

            var replacement = SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(canonical)).WithTriviaFrom(literal);
            context.RegisterCodeFix(
                CodeAction.Create($"Write '{canonical}'", _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(literal, replacement))), nameof(CanonicalTimeoutCodeFix)),
                diagnostic);
        }
    }
}
