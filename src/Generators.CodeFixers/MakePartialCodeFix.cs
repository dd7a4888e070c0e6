namespace TypedSandbox.Generators.CodeFixes;

/// <summary>Adds the <c>partial</c> modifier to a [Sandbox] class (TSB0001) or a [Command] method (TSB0002).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix)), Shared]
public sealed class MakePartialCodeFix : TsbCodeFix
{
    /// <summary>Creates the fix.</summary>
    public MakePartialCodeFix() : base(DiagnosticDescriptors.SandboxClassNotPartial, DiagnosticDescriptors.CommandMethodNotPartial) { }

    /// <inheritdoc/>
    private protected override void Register(CodeFixContext context, SyntaxNode root)
    {
        var declaration = root.FindToken(context.Span.Start).Parent?.AncestorsAndSelf()
            .FirstOrDefault(n => n is TypeDeclarationSyntax or MethodDeclarationSyntax) as MemberDeclarationSyntax;
        if (declaration is null || declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create("Make partial", token => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(declaration, AddPartial(declaration)))), nameof(MakePartialCodeFix)),
            context.Diagnostics);
    }

    private static MemberDeclarationSyntax AddPartial(MemberDeclarationSyntax declaration)
    {
        // 'partial' goes last among the modifiers, right before 'class' or the return type.
        var modifiers = declaration.Modifiers;
        if (modifiers.Count == 0)
        {
            var first = declaration.GetFirstToken();
            var partial = SyntaxFactory.Token(first.LeadingTrivia, SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space));
            var stripped = declaration.ReplaceToken(first, first.WithLeadingTrivia(SyntaxFactory.TriviaList()));
            return stripped.WithModifiers(SyntaxFactory.TokenList(partial));
        }

        return declaration.WithModifiers(modifiers.Add(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space)));
    }
}
