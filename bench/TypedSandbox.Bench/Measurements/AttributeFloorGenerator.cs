using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// The least a generator for this DSL must cost: Roslyn finds the <c>[Sandbox]</c> classes and <c>[Command]</c>
/// methods and binds their symbols, and nothing is parsed or generated. The generator measurement's peer.
/// </summary>
internal sealed class AttributeFloorGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var classes = context.SyntaxProvider.ForAttributeWithMetadataName(
            "TypedSandbox.SandboxAttribute", static (node, _) => node is ClassDeclarationSyntax, static (c, _) => c.TargetSymbol.Name);
        var commands = context.SyntaxProvider.ForAttributeWithMetadataName(
            "TypedSandbox.CommandAttribute", static (node, _) => node is MethodDeclarationSyntax, static (c, _) => c.TargetSymbol.Name);
        context.RegisterSourceOutput(classes.Collect().Combine(commands.Collect()), static (_, _) => { });
    }
}
