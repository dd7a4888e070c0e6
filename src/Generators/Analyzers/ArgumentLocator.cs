using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedSandbox.Generators.Parsing;

namespace TypedSandbox.Generators.Analyzers;

/// <summary>Finds the syntax a <see cref="ProblemTarget"/> points at, so diagnostics underline the faulty argument.</summary>
internal static class ArgumentLocator
{
    public static Location Locate(ProblemTarget target, CancellationToken cancellationToken)
    {
        if (target.Attribute is null)
        {
            return target.Location ?? Location.None;
        }

        if (target.Attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax attribute)
        {
            return Location.None;
        }

        var expression = Find(target, attribute);
        if (expression is null)
        {
            return attribute.GetLocation();
        }

        if (target.Element >= 0 && Element(expression, target.Element) is { } element)
        {
            return element.GetLocation();
        }

        return expression.GetLocation();
    }

    private static ExpressionSyntax? Find(ProblemTarget target, AttributeSyntax attribute)
    {
        var arguments = attribute.ArgumentList?.Arguments ?? default;
        if (target.Property is not null)
        {
            return arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == target.Property)?.Expression;
        }

        if (target.ConstructorIndex < 0 || target.Attribute?.AttributeConstructor is not { } constructor
            || target.ConstructorIndex >= constructor.Parameters.Length)
        {
            return null;
        }

        var parameter = constructor.Parameters[target.ConstructorIndex];
        var named = arguments.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == parameter.Name);
        if (named is not null)
        {
            return named.Expression;
        }

        var positional = arguments.Where(a => a.NameEquals is null && a.NameColon is null).ToList();
        if (parameter.IsParams && target.Element >= 0)
        {
            var rest = positional.Skip(target.ConstructorIndex).ToList();
            if (rest.Count == 1 && Element(rest[0].Expression, target.Element) is { } inArray)
            {
                return inArray;
            }

            return target.Element < rest.Count ? rest[target.Element].Expression : null;
        }

        return target.ConstructorIndex < positional.Count ? positional[target.ConstructorIndex].Expression : null;
    }

    /// <summary>The <paramref name="index"/>-th element of an array creation or collection expression.</summary>
    private static ExpressionSyntax? Element(ExpressionSyntax expression, int index)
    {
        var elements = expression switch
        {
            ArrayCreationExpressionSyntax array => array.Initializer?.Expressions.ToList(),
            ImplicitArrayCreationExpressionSyntax array => array.Initializer.Expressions.ToList(),
            CollectionExpressionSyntax collection => collection.Elements.OfType<ExpressionElementSyntax>().Select(e => e.Expression).ToList(),
            _ => null,
        };
        return elements is not null && index < elements.Count ? elements[index] : null;
    }
}
