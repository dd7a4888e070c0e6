using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Parsing;

/// <summary>
/// Reads the attributes of a [Sandbox] class or a [Command] method into the rule book's declarations, runs its
/// composite checks, and points each problem at the attribute argument it names. The analyzer reports what it finds;
/// the generator only asks whether there was an error, and then skips the declaration.
/// </summary>
internal static partial class SandboxChecks
{
    public static void CheckClass(INamedTypeSymbol type, KnownAttributes known, IProblemSink sink, CancellationToken cancellationToken)
    {
        var sandbox = KnownAttributes.Find(type, known.Sandbox).FirstOrDefault();
        if (sandbox.Data is null)
        {
            return;
        }

        CheckShape(type, sink, cancellationToken);
        var data = sandbox.Data;
        var volumes = KnownAttributes.Find(type, known.Volume).ToList();
        var secrets = KnownAttributes.Find(type, known.Secret).ToList();
        var fromEnvironment = KnownAttributes.Find(type, known.SecretFromEnvironment).ToList();
        var tags = KnownAttributes.Find(type, known.Tag).ToList();
        var declaration = new SandboxDeclaration
        {
            App = sandbox.String("App"),
            Name = sandbox.String("Name"),
            Timeout = RuleDiagnostics.Timeout(sandbox, "Timeout"),
            IdleTimeout = RuleDiagnostics.Timeout(sandbox, "IdleTimeout"),
            Workdir = sandbox.String("Workdir"),
            Cpu = sandbox.Double("Cpu"),
            MemoryMb = sandbox.Int("MemoryMb"),
            EncryptedPorts = sandbox.Ints("EncryptedPorts"),
            UnencryptedPorts = sandbox.Ints("UnencryptedPorts"),
            BlockNetwork = sandbox.Bool("BlockNetwork"),
            CidrAllowlist = sandbox.Strings("CidrAllowlist"),
            Volumes = volumes.Select(v => new VolumeDeclaration(v.ConstructorString(0), v.ConstructorString(1))).ToList(),
            Secrets = secrets.Select(s => s.ConstructorString(0)).ToList(),
            SecretsFromEnvironment = fromEnvironment.Select(s => (IReadOnlyList<string?>)s.ConstructorStrings(0)).ToList(),
            Tags = tags.Select(t => new KeyValuePair<string?, string?>(t.ConstructorString(0), t.ConstructorString(1))).ToList(),
        };
        foreach (var problem in SandboxRules.Check(declaration))
        {
            var target = problem.Field switch
            {
                "Volumes" => ProblemTarget.ConstructorArgument(volumes[problem.Index].Data, problem.Part),
                "Secrets" => ProblemTarget.ConstructorArgument(secrets[problem.Index].Data, 0),
                "SecretsFromEnvironment" => problem.Part < 0
                    ? ProblemTarget.WholeAttribute(fromEnvironment[problem.Index].Data)
                    : ProblemTarget.ConstructorArgument(fromEnvironment[problem.Index].Data, 0, problem.Part),
                "Tags" => ProblemTarget.ConstructorArgument(tags[problem.Index].Data, problem.Part),
                _ => ProblemTarget.NamedArgument(data, problem.Field, problem.Index),
            };
            RuleDiagnostics.Report(problem, target, sink, sandbox);
        }

        RuleDiagnostics.ReportNonCanonical(sandbox, sink, "Timeout", "IdleTimeout");
        if (data.NamedArguments.FirstOrDefault(a => a.Key == "JsonContext").Value.Value is ITypeSymbol jsonContext && !IsJsonSerializerContext(jsonContext))
        {
            sink.Report(DiagnosticDescriptors.InvalidJsonContext, ProblemTarget.NamedArgument(data, "JsonContext"), null, jsonContext.ToDisplayString());
        }

        CheckImages(type, known, sink);
        foreach (var entrypoint in KnownAttributes.Find(type, known.Entrypoint))
        {
            CheckEntrypoint(entrypoint, sink);
        }
    }

    /// <summary>TSB0001 and TSB0021: a class the generator can add members to.</summary>
    private static void CheckShape(INamedTypeSymbol type, IProblemSink sink, CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
                && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                sink.Report(DiagnosticDescriptors.SandboxClassNotPartial, ProblemTarget.At(declaration.Identifier.GetLocation()), null, type.Name);
            }
        }

        var unsupported = type.ContainingType is not null ? "nested in another type"
            : type.IsRecord ? "a record"
            : type.IsGenericType ? "generic"
            : type.IsStatic ? "static"
            : type.IsAbstract ? "abstract"
            : null;
        if (unsupported is not null)
        {
            sink.Report(DiagnosticDescriptors.UnsupportedSandboxClass, ProblemTarget.At(type.Locations.FirstOrDefault()), null, type.Name, unsupported);
        }
    }

    private static bool IsJsonSerializerContext(ITypeSymbol type)
    {
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (current.Name == "JsonSerializerContext" && current.ContainingNamespace.ToDisplayString() == "System.Text.Json.Serialization")
            {
                return true;
            }
        }

        return false;
    }

    private static void CheckImages(INamedTypeSymbol type, KnownAttributes known, IProblemSink sink)
    {
        foreach (var image in KnownAttributes.Find(type, known.SandboxImage))
        {
            var problems = ImageRules.Check(image.ConstructorString(0), image.HasConstructorArguments(1), image.Strings("Env"), image.String("Workdir"));
            foreach (var problem in problems)
            {
                var target = problem.Field == "Reference"
                    ? ProblemTarget.ConstructorArgument(image.Data, 0)
                    : ProblemTarget.NamedArgument(image.Data, problem.Field, problem.Index);
                RuleDiagnostics.Report(problem, target, sink);
            }
        }
    }

    private static void CheckEntrypoint(AttributeValues entrypoint, IProblemSink sink)
    {
        var args = entrypoint.ConstructorStrings(0);
        var problems = CommandRules.CheckEntrypoint(args);
        foreach (var problem in problems)
        {
            var target = problem.Index < 0
                ? ProblemTarget.WholeAttribute(entrypoint.Data)
                : ProblemTarget.ConstructorArgument(entrypoint.Data, 0, problem.Index);
            RuleDiagnostics.Report(problem, target, sink);
        }

        if (!args.IsEmpty && CommandTemplate.TryParse(args, out _, out _, out _))
        {
            CheckProgram(args, entrypoint.Data, sink);
        }
    }
}
