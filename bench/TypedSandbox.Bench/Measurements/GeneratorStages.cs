using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedSandbox.Generators.Emitting;
using TypedSandbox.Generators.Model;
using TypedSandbox.Generators.Parsing;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// <see cref="TypedSandbox.Generators.SandboxGenerator"/>'s pipeline cut short, to show where a full run's time goes:
/// up to the specs (the transforms), or up to the generated text (the models and the emitter) without handing it to
/// Roslyn (which parses every added file).
/// </summary>
internal sealed class GeneratorStages(bool emit, bool modelsOnly = false) : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var classes = context.SyntaxProvider
            .ForAttributeWithMetadataName("TypedSandbox.SandboxAttribute", static (node, _) => node is ClassDeclarationSyntax, SandboxParser.ParseClass)
            .Where(static parse => parse.Spec is not null)
            .Select(static (parse, _) => parse.Spec!);
        var commands = context.SyntaxProvider
            .ForAttributeWithMetadataName("TypedSandbox.CommandAttribute", static (node, _) => node is MethodDeclarationSyntax, SandboxParser.ParseCommand)
            .Where(static parse => parse.Spec is { InSandboxClass: true })
            .Select(static (parse, _) => parse.Spec!)
            .Collect()
            .Select(static (all, _) => new CommandsByType(all));
        if (!emit)
        {
            context.RegisterSourceOutput(classes.Collect().Combine(commands), static (_, _) => { });
            return;
        }

        var models = classes.Combine(commands).Select(static (pair, _) => new SandboxModel(pair.Left, pair.Right.For(pair.Left.FullyQualifiedName)));
        if (modelsOnly)
        {
            context.RegisterSourceOutput(models.Collect(), static (_, _) => { });
            return;
        }

        context.RegisterSourceOutput(models, static (_, model) => GC.KeepAlive(SandboxEmitter.Emit(model)));
    }
}
