using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedSandbox.Generators.Emitting;
using TypedSandbox.Generators.Model;
using TypedSandbox.Generators.Parsing;

namespace TypedSandbox.Generators
{
    /// <summary>
    /// Generates the members of [Sandbox] classes and the bodies of their [Command] methods. Parsing reads each
    /// attributed declaration once into an equatable spec; emitting turns one class and its commands into one file.
    /// Invalid declarations are skipped here and reported by <see cref="Analyzers.SandboxAnalyzer"/>.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class SandboxGenerator : IIncrementalGenerator
    {
        /// <summary>Step names, for incrementality tests.</summary>
        public static class Steps
        {
            public const string Classes = "SandboxClasses";
            public const string Commands = "Commands";
            public const string Models = "SandboxModels";
        }

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var classes = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    "TypedSandbox.SandboxAttribute",
                    static (node, _) => node is ClassDeclarationSyntax,
                    static (context, cancellationToken) => SandboxParser.ParseClass(context, cancellationToken))
                .Where(static spec => spec is not null)
                .Select(static (spec, _) => spec!)
                .WithTrackingName(Steps.Classes);

            var commands = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    "TypedSandbox.CommandAttribute",
                    static (node, _) => node is MethodDeclarationSyntax,
                    static (context, cancellationToken) => SandboxParser.ParseCommand(context, cancellationToken))
                .Where(static spec => spec is not null)
                .Select(static (spec, _) => spec!)
                .WithTrackingName(Steps.Commands)
                .Collect()
                .Select(static (all, _) => new CommandsByType(all));

            // Each class picks its own commands, so an edit to one class's commands leaves the other models unchanged.
            var models = classes
                .Combine(commands)
                .Select(static (pair, _) => new SandboxModel(pair.Left, pair.Right.For(pair.Left.FullyQualifiedName)))
                .WithTrackingName(Steps.Models);

            context.RegisterSourceOutput(models, static (output, model) =>
                output.AddSource(model.Class.HintName, SandboxEmitter.Emit(model)));
        }
    }
}
