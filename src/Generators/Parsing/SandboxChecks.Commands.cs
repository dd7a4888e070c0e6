using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedSandbox.Generators.Model;
using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Parsing;

/// <summary>The checks of a [Command] method: its settings through the rule book, its template against its parameters.</summary>
internal static partial class SandboxChecks
{
    public static void CheckCommand(IMethodSymbol method, KnownAttributes known, IProblemSink sink, CancellationToken cancellationToken)
    {
        var command = KnownAttributes.Find(method, known.Command).FirstOrDefault();
        if (command.Data is null)
        {
            return;
        }

        var data = command.Data;
        var sandbox = KnownAttributes.Find(method.ContainingType, known.Sandbox).FirstOrDefault();
        if (sandbox.Data is null)
        {
            sink.Report(DiagnosticDescriptors.CommandOutsideSandbox, ProblemTarget.WholeAttribute(data), null, method.Name, method.ContainingType.Name);
        }

        if (!method.IsPartialDefinition && method.PartialDefinitionPart is null)
        {
            sink.Report(DiagnosticDescriptors.CommandMethodNotPartial, ProblemTarget.At(method.Locations.FirstOrDefault()), null, method.Name);
        }

        var unsupported = DeclaredAccessibility(method, cancellationToken) is null && method.IsPartialDefinition ? "has no access modifier; a partial method that returns a value needs one (public, internal or private)"
            : method.IsStatic ? "is static"
            : method.IsGenericMethod ? "is generic"
            : method.Parameters.Any(p => p.RefKind != RefKind.None) ? "has a ref, out or in parameter"
            : method.Parameters.Any(p => p.IsParams) ? "has a params parameter"
            : null;
        if (unsupported is not null)
        {
            sink.Report(DiagnosticDescriptors.UnsupportedCommandMethod, ProblemTarget.At(method.Locations.FirstOrDefault()), null, method.Name, unsupported);
        }

        if (ClassifyReturnType(method.ReturnType) is null)
        {
            var location = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is MethodDeclarationSyntax syntax
                ? syntax.ReturnType.GetLocation()
                : method.Locations.FirstOrDefault();
            sink.Report(DiagnosticDescriptors.UnsupportedReturnType, ProblemTarget.At(location), null, method.ReturnType.ToDisplayString());
        }

        CheckTemplate(method, known, command, sink);
        CheckParameters(method, known, sink);
        var declaration = new CommandDeclaration
        {
            Timeout = RuleDiagnostics.Timeout(command, "Timeout"),
            SandboxTimeout = sandbox.Data is null ? default : RuleDiagnostics.Timeout(sandbox, "Timeout"),
            SandboxKnown = sandbox.Data is not null,
            Workdir = command.String("Workdir"),
            Env = command.Strings("Env"),
            Secrets = command.Strings("Secrets"),
        };
        foreach (var problem in CommandRules.Check(declaration))
        {
            RuleDiagnostics.Report(problem, ProblemTarget.NamedArgument(data, problem.Field, problem.Index), sink, command);
        }

        RuleDiagnostics.ReportNonCanonical(command, sink, "Timeout");
    }

    /// <summary>TSB0026 and TSB0012: [Option], [Stdin] and [Env] parameters.</summary>
    private static void CheckParameters(IMethodSymbol method, KnownAttributes known, IProblemSink sink)
    {
        var stdin = 0;
        foreach (var parameter in method.Parameters)
        {
            var location = ProblemTarget.At(parameter.Locations.FirstOrDefault());
            var marks = parameter.GetAttributes().Count(a => KnownAttributes.Is(a, known.Option) || KnownAttributes.Is(a, known.Env) || KnownAttributes.Is(a, known.Stdin));
            if (marks > 1)
            {
                sink.Report(DiagnosticDescriptors.UnsupportedParameter, location, null, parameter.Name, "has more than one of [Option], [Env] and [Stdin]; a parameter reaches the command one way");
                continue;
            }

            switch (KindOf(parameter, known, out var key))
            {
                case ParameterKind.Stdin:
                    var type = parameter.Type;
                    var fits = type.SpecialType == SpecialType.System_String
                        || type is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_Byte }
                        || type is { Name: "Stream", ContainingNamespace: { Name: "IO", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } };
                    if (!fits)
                    {
                        sink.Report(DiagnosticDescriptors.UnsupportedParameter, location, null, parameter.Name, $"is [Stdin] of type '{type.ToDisplayString()}'; use string (UTF-8), byte[] or Stream");
                    }

                    if (++stdin == 2)
                    {
                        sink.Report(DiagnosticDescriptors.UnsupportedParameter, location, null, parameter.Name, "is a second [Stdin] parameter; a command has one stdin");
                    }

                    break;
                case ParameterKind.Option when string.IsNullOrWhiteSpace(key) || CommandTemplate.HasWhitespace(key!):
                    sink.Report(DiagnosticDescriptors.UnsupportedParameter, location, null, parameter.Name, $"has option name '{key}'; give the option as the program expects it, such as \"-k\" or \"--maxfail=\"");
                    break;
                case ParameterKind.Env:
                    if (EnvironmentKeys.Check(key) is { } keyError)
                    {
                        sink.Report(DiagnosticDescriptors.InvalidEnvironmentKey, location, null, keyError);
                    }

                    break;
            }
        }
    }

    /// <summary>TSB0024: a program with whitespace is almost always a whole command line in one string, which no shell will split.</summary>
    private static void CheckProgram(ImmutableArray<string?> args, AttributeData attribute, IProblemSink sink)
    {
        var program = args[0];
        if (program is null || !CommandTemplate.HasWhitespace(program))
        {
            return;
        }

        var split = string.Join(", ", CommandTemplate.SplitOnWhitespace(program).Select(a => "\"" + a + "\""));
        sink.Report(DiagnosticDescriptors.ProgramWithWhitespace, ProblemTarget.ConstructorArgument(attribute, 0, 0), null, program, split);
    }

    private static void CheckTemplate(IMethodSymbol method, KnownAttributes known, AttributeValues command, IProblemSink sink)
    {
        var args = command.ConstructorStrings(0);
        if (!CommandTemplate.TryParse(args, out var template, out var error, out var errorIndex))
        {
            var target = errorIndex < 0 ? ProblemTarget.WholeAttribute(command.Data) : ProblemTarget.ConstructorArgument(command.Data, 0, errorIndex);
            sink.Report(DiagnosticDescriptors.MalformedCommand, target, null, error);
            return;
        }

        CheckProgram(args, command.Data, sink);

        var parameters = method.Parameters.Where(p => KindOf(p, known, out _) == ParameterKind.Placeholder).ToList();
        var names = parameters.Select(p => p.Name).ToList();
        var allowed = names.Count == 0 ? "the method has no parameters" : string.Join(", ", names.Select(n => "{" + n + "}"));
        for (var i = 0; i < args.Length; i++)
        {
            foreach (var placeholder in CommandTemplate.PlaceholdersOf(args[i]).Distinct())
            {
                if (!names.Contains(placeholder))
                {
                    sink.Report(DiagnosticDescriptors.PlaceholderWithoutParameter, ProblemTarget.ConstructorArgument(command.Data, 0, i), null, placeholder, method.Name, allowed);
                }
            }
        }

        foreach (var parameter in parameters)
        {
            if (!template!.Placeholders.Contains(parameter.Name))
            {
                sink.Report(DiagnosticDescriptors.ParameterWithoutPlaceholder, ProblemTarget.At(parameter.Locations.FirstOrDefault()), null, parameter.Name);
            }

            if (IsCollection(parameter.Type))
            {
                for (var i = 0; i < args.Length; i++)
                {
                    if (args[i] != "{" + parameter.Name + "}" && CommandTemplate.PlaceholdersOf(args[i]).Contains(parameter.Name))
                    {
                        sink.Report(DiagnosticDescriptors.CollectionInsideArgument, ProblemTarget.ConstructorArgument(command.Data, 0, i), null, parameter.Name, args[i]);
                    }
                }
            }
        }
    }
}
