namespace TypedSandbox.Generators.CodeFixes;

/// <summary>Rewrites a timeout into canonical form: "90s" → "1m30s" (TSB0005), "10 min" → "10m" (TSB0004 when the intent is clear).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(CanonicalTimeoutCodeFix)), Shared]
public sealed class CanonicalTimeoutCodeFix : TsbCodeFix
{
    /// <summary>Creates the fix.</summary>
    public CanonicalTimeoutCodeFix() : base(DiagnosticDescriptors.InvalidTimeout, DiagnosticDescriptors.TimeoutNotCanonical) { }

    /// <inheritdoc/>
    private protected override void Register(CodeFixContext context, SyntaxNode root)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(DiagnosticDescriptors.CanonicalProperty, out var canonical) || canonical is null
                || root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not LiteralExpressionSyntax literal)
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
