using System.Collections.Generic;
using TypedSandbox.Validation;

namespace TypedSandbox.Generators.CodeFixes;

/// <summary>Splits a program that holds a whole command line (TSB0024) into one string per argument: "ls -la" → "ls", "-la".</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SplitProgramCodeFix)), Shared]
public sealed class SplitProgramCodeFix : TsbCodeFix
{
    /// <summary>Creates the fix.</summary>
    public SplitProgramCodeFix() : base(DiagnosticDescriptors.ProgramWithWhitespace) { }

    /// <inheritdoc/>
    private protected override void Register(CodeFixContext context, SyntaxNode root)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not LiteralExpressionSyntax literal
                || !literal.IsKind(SyntaxKind.StringLiteralExpression))
            {
                continue;
            }

            var parts = CommandTemplate.SplitOnWhitespace(literal.Token.ValueText);
            var replaced = Split(root, literal, parts);
            if (parts.Count == 0 || replaced is null)
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create("Split into arguments", _ => Task.FromResult(context.Document.WithSyntaxRoot(replaced)), nameof(SplitProgramCodeFix)),
                diagnostic);
        }
    }

    /// <summary>Replaces the literal with one literal per part, in whichever list holds it (params arguments, array or collection elements).</summary>
    private static SyntaxNode? Split(SyntaxNode root, LiteralExpressionSyntax literal, IReadOnlyList<string> parts)
    {
        var literals = parts.Select((p, i) =>
        {
            var part = SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(p));
            return i == 0 ? part.WithLeadingTrivia(literal.GetLeadingTrivia()) : part.WithLeadingTrivia(SyntaxFactory.Space);
        }).ToList();
        literals[literals.Count - 1] = literals[literals.Count - 1].WithTrailingTrivia(literal.GetTrailingTrivia());
        return literal.Parent switch
        {
            AttributeArgumentSyntax { NameEquals: null, NameColon: null } argument =>
                root.ReplaceNode(argument, literals.Select(l => SyntaxFactory.AttributeArgument(l))),
            InitializerExpressionSyntax => root.ReplaceNode(literal, literals),
            ExpressionElementSyntax element => root.ReplaceNode(element, literals.Select(l => SyntaxFactory.ExpressionElement(l))),
            _ => null,
        };
    }
}
