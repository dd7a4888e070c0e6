using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedSandbox.Generators.Model;

namespace TypedSandbox.Generators.Parsing;

/// <summary>Reads a [Sandbox] class or a [Command] method into a spec. Invalid declarations give <see langword="null"/>: the analyzer reports them.</summary>
internal static class SandboxParser
{
    public static ClassParse ParseClass(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        // [Sandbox] on two partial declarations is a compiler error (CS0579); generating twice would collide on the hint name.
        var known = KnownAttributes.From(context.SemanticModel.Compilation);
        if (context.TargetSymbol is not INamedTypeSymbol type || KnownAttributes.Find(type, known.Sandbox).Skip(1).Any())
        {
            return new ClassParse(null, default);
        }

        var errors = new DiagnosticCollector(cancellationToken);
        SandboxChecks.CheckClass(type, known, errors, cancellationToken);
        if (SandboxChecks.GeneratorReportsClass(type, cancellationToken))
        {
            return new ClassParse(null, errors.Errors);
        }

        var sandbox = new AttributeValues(context.Attributes[0]);
        var image = KnownAttributes.Find(type, known.SandboxImage).Select(i => new ImageSpec(
            i.HasConstructorArguments(1) ? i.ConstructorString(0) : null,
            i.String("DebianSuite"),
            Strings(i.Strings("Env")),
            Strings(i.Strings("AptInstall")),
            Strings(i.Strings("PipInstall")),
            Strings(i.Strings("RunCommands")),
            i.String("Workdir"))).FirstOrDefault();

        var definition = new SandboxDefinitionSpec(
            sandbox.String("App"),
            sandbox.String("Name"),
            sandbox.String("Timeout"),
            sandbox.String("IdleTimeout"),
            sandbox.String("Workdir"),
            sandbox.Double("Cpu"),
            sandbox.Int("MemoryMb"),
            sandbox.Bool("BlockNetwork"),
            Strings(sandbox.Strings("CidrAllowlist")),
            sandbox.Ints("EncryptedPorts").ToEquatableArray(),
            sandbox.Ints("UnencryptedPorts").ToEquatableArray(),
            sandbox.Bool("Verbose"),
            image,
            KnownAttributes.Find(type, known.Volume)
                .Select(v => new VolumeSpec(v.ConstructorString(0)!, v.ConstructorString(1)!, v.Bool("ReadOnly")))
                .ToEquatableArray(),
            KnownAttributes.Find(type, known.Secret).Select(s => s.ConstructorString(0)!).ToEquatableArray(),
            KnownAttributes.Find(type, known.SecretFromEnvironment)
                .Select(s => new EnvironmentSecretSpec(Strings(s.ConstructorStrings(0)), s.Bool("Required", fallback: true)))
                .ToEquatableArray(),
            KnownAttributes.Find(type, known.Tag).Select(t => new TagSpec(t.ConstructorString(0)!, t.ConstructorString(1)!)).ToEquatableArray(),
            Strings(KnownAttributes.Find(type, known.Entrypoint).FirstOrDefault() is { Data: not null } entrypoint
                ? entrypoint.ConstructorStrings(0)
                : default));

        var ns = type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString();
        var ownDisposeAsync = type.GetMembers().OfType<IMethodSymbol>()
            .Any(m => m.Parameters.IsEmpty && (m.Name == "DisposeAsync" || m.Name.EndsWith(".DisposeAsync", System.StringComparison.Ordinal)));
        // The analyzer reports the errors of a class the generator can complete; the generator only makes its bodies throw.
        var spec = new SandboxClassSpec(ns, type.Name, type.DeclaredAccessibility == Accessibility.Public, errors.HasErrors, ownDisposeAsync, definition)
        {
            JsonContext = sandbox.Data.NamedArguments.FirstOrDefault(a => a.Key == "JsonContext").Value.Value is ITypeSymbol jsonContext
                ? jsonContext.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)
                : null,
        };
        return new ClassParse(spec, default);
    }

    public static CommandParse ParseCommand(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol method)
        {
            return new CommandParse(null, default);
        }

        var known = KnownAttributes.From(context.SemanticModel.Compilation);
        var errors = new DiagnosticCollector(cancellationToken);
        SandboxChecks.CheckCommand(method, known, errors, cancellationToken);
        var reported = SandboxChecks.GeneratorReportsCommand(method, known, cancellationToken) ? errors.Errors : default;
        var accessibility = SandboxChecks.DeclaredAccessibility(method, cancellationToken);
        var declarations = SandboxChecks.PartialDeclarations(method.ContainingType, cancellationToken);
        if (!method.IsPartialDefinition || method.IsGenericMethod || accessibility is null || declarations is null)
        {
            return new CommandParse(null, reported);
        }

        var command = new AttributeValues(context.Attributes[0]);
        var parameters = method.Parameters.Select(p => new ParameterSpec(
            p.Name,
            p.Type.ToDisplayString(TypeFormat),
            SandboxChecks.IsCancellationToken(p.Type),
            p.HasExplicitDefaultValue ? DefaultValue(p) : null)
        {
            Kind = SandboxChecks.KindOf(p, known, out var key),
            Key = key,
            Modifier = p.IsParams ? "params" : p.RefKind switch
            {
                RefKind.Ref => "ref",
                RefKind.Out => "out",
                RefKind.In => "in",
                RefKind.RefReadOnlyParameter => "ref readonly",
                _ => null,
            },
        }).ToEquatableArray();

        var type = method.ContainingType;
        var typeName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        var spec = new CommandSpec(
            typeName,
            method.Name,
            accessibility,
            SandboxChecks.ClassifyReturnType(method.ReturnType),
            method.ReturnType.ToDisplayString(TypeFormat),
            errors.HasErrors || !SandboxChecks.IsRunnableCommand(method),
            parameters,
            Strings(command.ConstructorStrings(0)),
            command.String("Timeout"),
            command.String("Workdir"));
        spec = spec with
        {
            IsStatic = method.IsStatic,
            ResultType = SandboxChecks.ResultTypeOf(method.ReturnType)?.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            Env = Strings(command.Strings("Env")),
            Secrets = Strings(command.Strings("Secrets")),
            Namespace = OutermostNamespace(type),
            TypeName = type.Name,
            Declarations = declarations.ToEquatableArray(),
            InSandboxClass = !SandboxChecks.GeneratorReportsClass(type, cancellationToken) && KnownAttributes.Find(type, known.Sandbox).Count() == 1,
        };
        return new CommandParse(spec, reported);
    }

    private static string? OutermostNamespace(INamedTypeSymbol type)
    {
        while (type.ContainingType is not null)
        {
            type = type.ContainingType;
        }

        return type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString();
    }

    /// <summary>The C# text of a parameter's default value, so generated extension methods keep it.</summary>
    private static string DefaultValue(IParameterSymbol parameter)
    {
        var value = parameter.ExplicitDefaultValue;
        if (value is null)
        {
            return parameter.Type.IsValueType ? "default" : "null";
        }

        var text = SymbolDisplay.FormatPrimitive(value, quoteStrings: true, useHexadecimalNumbers: false);
        if (parameter.Type.TypeKind == TypeKind.Enum)
        {
            return $"({parameter.Type.ToDisplayString(TypeFormat)})({text})";
        }

        return value switch
        {
            float => text + "F",
            decimal => text + "M",
            long => text + "L",
            ulong => text + "UL",
            uint => text + "U",
            _ => text,
        };
    }

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static EquatableArray<string> Strings(System.Collections.Immutable.ImmutableArray<string?> values) =>
        values.IsDefaultOrEmpty ? default : values.Select(v => v ?? string.Empty).ToEquatableArray();
}
