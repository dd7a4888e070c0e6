namespace TypedSandbox.Generators.CodeFixes;

/// <summary>Removes a [Tag] with a duplicate key (TSB0009) or a [Volume] with a duplicate mount path (TSB0011).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveDuplicateCodeFix)), Shared]
public sealed class RemoveDuplicateCodeFix : TsbCodeFix
{
    /// <summary>Creates the fix.</summary>
    public RemoveDuplicateCodeFix() : base(DiagnosticDescriptors.DuplicateTagKey, DiagnosticDescriptors.DuplicateMountPath) { }

    /// <inheritdoc/>
    private protected override void Register(CodeFixContext context, SyntaxNode root)
    {
        var attribute = root.FindNode(context.Span).AncestorsAndSelf().OfType<AttributeSyntax>().FirstOrDefault();
        if (attribute?.Parent is not AttributeListSyntax list)
        {
            return;
        }

        // Remove the whole [..] list when the duplicate is its only attribute, so no empty brackets remain.
        SyntaxNode remove = list.Attributes.Count == 1 ? list : attribute;
        context.RegisterCodeFix(
            CodeAction.Create("Remove the duplicate", _ => Task.FromResult(context.Document.WithSyntaxRoot(root.RemoveNode(remove, SyntaxRemoveOptions.KeepNoTrivia)!)), nameof(RemoveDuplicateCodeFix)),
            context.Diagnostics);
    }
}
