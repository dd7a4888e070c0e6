using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace TypedSandbox.Generators.CodeFixes;

/// <summary>Removes a [Tag] with a duplicate key (TSB0009) or a [Volume] with a duplicate mount path (TSB0011).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveDuplicateCodeFix)), Shared]
public sealed class RemoveDuplicateCodeFix : TsbCodeFix
{
    /// <summary>Creates the fix.</summary>
    public RemoveDuplicateCodeFix() : base(DiagnosticDescriptors.DuplicateTagKey, DiagnosticDescriptors.DuplicateMountPath) { }

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var attribute = root?.FindNode(context.Span).AncestorsAndSelf().OfType<AttributeSyntax>().FirstOrDefault();
        if (root is null || attribute?.Parent is not AttributeListSyntax list)
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
