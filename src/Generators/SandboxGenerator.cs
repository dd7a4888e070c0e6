using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedSandbox.Generators.Emitting;
using TypedSandbox.Generators.Model;
using TypedSandbox.Generators.Parsing;

namespace TypedSandbox.Generators;

/// <summary>
/// Generates the members of [Sandbox] classes and the bodies of their [Command] methods. Parsing reads each
/// attributed declaration once into an equatable spec; emitting turns one class and its commands into one file.
/// Errors are reported here as well as by <see cref="Analyzers.SandboxAnalyzer"/> (the command-line compiler runs no
/// analyzer once the generator has reported an error); an invalid declaration that can still have members gets
/// bodies that throw, so no compiler error follows from what was skipped.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class SandboxGenerator : IIncrementalGenerator
{
    /// <summary>Step names, for incrementality tests.</summary>
    public static class Steps
    {
        /// <summary>Parsing each [Sandbox] class into its spec.</summary>
        public const string ClassParses = "SandboxClassParses";
        /// <summary>Parsing each [Command] method into its spec.</summary>
        public const string CommandParses = "CommandParses";
        /// <summary>The valid sandbox class specs.</summary>
        public const string Classes = "SandboxClasses";
        /// <summary>The valid command specs, grouped by containing type.</summary>
        public const string Commands = "Commands";
        /// <summary>Each class joined with its commands: what the emitter writes.</summary>
        public const string Models = "SandboxModels";
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var classParses = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                "TypedSandbox.SandboxAttribute",
                static (node, _) => node is ClassDeclarationSyntax or RecordDeclarationSyntax,
                static (context, cancellationToken) => SandboxParser.ParseClass(context, cancellationToken))
            .WithTrackingName(Steps.ClassParses);

        var commandParses = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                "TypedSandbox.CommandAttribute",
                static (node, _) => node is MethodDeclarationSyntax,
                static (context, cancellationToken) => SandboxParser.ParseCommand(context, cancellationToken))
            .WithTrackingName(Steps.CommandParses);

        // The generator reports every error itself: a build whose generator reports an error stops before the
        // analyzers run, and a skipped declaration would otherwise surface only as the compiler's CS8795.
        // Only declarations with errors meet the syntax trees (to locate the errors in source, where code fixes and
        // '#pragma' reach them), so valid code never reruns this step.
        var trees = context.CompilationProvider.Select(static (compilation, _) => compilation.SyntaxTrees.ToImmutableArray());
        var classErrors = classParses.Select(static (parse, _) => parse.Errors).Where(static e => !e.IsEmpty);
        var commandErrors = commandParses.Select(static (parse, _) => parse.Errors).Where(static e => !e.IsEmpty);
        context.RegisterSourceOutput(classErrors.Combine(trees), static (output, pair) => ReportErrors(output, pair.Left, pair.Right));
        context.RegisterSourceOutput(commandErrors.Combine(trees), static (output, pair) => ReportErrors(output, pair.Left, pair.Right));

        var classes = classParses
            .Where(static parse => parse.Spec is not null)
            .Select(static (parse, _) => parse.Spec!)
            .WithTrackingName(Steps.Classes);

        context.RegisterSourceOutput(
            commandParses.Where(static parse => parse.Spec is { InSandboxClass: false }).Select(static (parse, _) => parse.Spec!),
            static (output, command) => output.AddSource(SandboxEmitter.OrphanHintName(command), SandboxEmitter.EmitOrphan(command)));

        var commands = commandParses
            .Where(static parse => parse.Spec is { InSandboxClass: true })
            .Select(static (parse, _) => parse.Spec!)
            .WithTrackingName(Steps.Commands)
            .Collect()
            .Select(static (all, _) => new CommandsByType(all));

        // Hint names are compared ignoring case: names that collide so ("Tools.Runner", "tools.Runner") get a hash.
        var collisions = classes
            .Select(static (spec, _) => spec.HintName)
            .Collect()
            .Select(static (names, _) => names
                .GroupBy(n => n, StringComparer.OrdinalIgnoreCase)
                .Where(g => g.Skip(1).Any())
                .Select(g => g.Key.ToUpperInvariant())
                .OrderBy(n => n, StringComparer.Ordinal)
                .ToEquatableArray());

        // Each class picks its own commands, so an edit to one class's commands leaves the other models unchanged.
        var models = classes
            .Combine(commands)
            .Combine(collisions)
            .Select(static (pair, _) => new SandboxModel(pair.Left.Left, pair.Left.Right.For(pair.Left.Left.FullyQualifiedName))
            {
                HintNameCollides = pair.Right.Contains(pair.Left.Left.HintName.ToUpperInvariant()),
            })
            .WithTrackingName(Steps.Models);

        context.RegisterSourceOutput(models, static (output, model) =>
            output.AddSource(model.HintNameCollides ? model.Class.CaseSafeHintName : model.Class.HintName, SandboxEmitter.Emit(model)));
    }

    private static void ReportErrors(SourceProductionContext context, EquatableArray<DiagnosticInfo> errors, ImmutableArray<SyntaxTree> trees)
    {
        foreach (var error in errors)
        {
            context.ReportDiagnostic(error.ToDiagnostic(trees.FirstOrDefault(t => t.FilePath == error.FilePath)));
        }
    }
}
