using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedSandbox.Generators.Model;

namespace TypedSandbox.Generators.Parsing;

/// <summary>What the generator can complete: the shapes of classes, methods, return types and parameters.</summary>
internal static partial class SandboxChecks
{
    /// <summary>Whether the generator can add members to the class: partial, a class (not a record), directly in a namespace, non-generic, non-static, non-abstract.</summary>
    public static bool CanGenerateClass(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        type.ContainingType is null && !type.IsRecord && !type.IsGenericType && !type.IsStatic && !type.IsAbstract
        && type.DeclaringSyntaxReferences.All(r => r.GetSyntax(cancellationToken) is ClassDeclarationSyntax declaration
            && declaration.Modifiers.Any(SyntaxKind.PartialKeyword));

    /// <summary>
    /// Whether the generator, rather than the analyzer, reports the errors of a [Sandbox] class: it does for a class
    /// it cannot add members to, because the compiler's own errors about such a class stop the analyzers of a build.
    /// Each error has exactly one reporter, so a build never shows it twice.
    /// </summary>
    public static bool GeneratorReportsClass(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        !CanGenerateClass(type, cancellationToken);

    /// <summary>
    /// As <see cref="GeneratorReportsClass"/>, for a [Command] method: the generator reports it when it cannot write
    /// the method's body (not a partial definition, generic, no access modifier, or in a class it cannot complete).
    /// A command in a class without [Sandbox] still gets a throwing body when the class could take one.
    /// </summary>
    public static bool GeneratorReportsCommand(IMethodSymbol method, KnownAttributes known, CancellationToken cancellationToken) =>
        !method.IsPartialDefinition || method.IsGenericMethod || DeclaredAccessibility(method, cancellationToken) is null
        || KnownAttributes.Find(method.ContainingType, known.Sandbox).Skip(1).Any()
        || !CanGenerateClass(method.ContainingType, cancellationToken);

    /// <summary>
    /// The declarations that reopen <paramref name="type"/> and its containing types, outermost first
    /// ("partial class Outer", "partial record Runner"), or <see langword="null"/> when one of them is not partial.
    /// </summary>
    public static List<string>? PartialDeclarations(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var declarations = new List<string>();
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (!current.DeclaringSyntaxReferences.All(r => r.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
                && declaration.Modifiers.Any(SyntaxKind.PartialKeyword)))
            {
                return null;
            }

            var keyword = current.TypeKind switch
            {
                TypeKind.Struct => current.IsRecord ? "record struct" : "struct",
                TypeKind.Interface => "interface",
                _ => current.IsRecord ? "record" : "class",
            };
            var parameters = current.TypeParameters.IsEmpty ? string.Empty : "<" + string.Join(", ", current.TypeParameters.Select(p => p.Name)) + ">";
            declarations.Insert(0, $"partial {keyword} {current.Name}{parameters}");
        }

        return declarations;
    }

    /// <summary>Whether a command can run as declared (an instance method with plain by-value parameters); other commands get a throwing body.</summary>
    public static bool IsRunnableCommand(IMethodSymbol method) =>
        !method.IsStatic && method.Parameters.All(p => p.RefKind == RefKind.None && !p.IsParams);

    /// <summary>The access modifiers as written on the method ("public", "protected internal"), or <see langword="null"/> when there are none.</summary>
    public static string? DeclaredAccessibility(IMethodSymbol method, CancellationToken cancellationToken)
    {
        var syntax = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as MethodDeclarationSyntax;
        var modifiers = syntax?.Modifiers
            .Where(m => m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.InternalKeyword) || m.IsKind(SyntaxKind.ProtectedKeyword) || m.IsKind(SyntaxKind.PrivateKeyword))
            .Select(m => m.Text)
            .ToList();
        return modifiers is null || modifiers.Count == 0 ? null : string.Join(" ", modifiers);
    }

    /// <summary>Which result a [Command] return type asks for, or <see langword="null"/> when it is not supported.</summary>
    public static CommandResultKind? ClassifyReturnType(ITypeSymbol type)
    {
        if (type is not INamedTypeSymbol named || named.TypeKind == TypeKind.Error)
        {
            return null;
        }

        if (named is { Name: "IAsyncEnumerable", Arity: 1, ContainingNamespace: { Name: "Generic", ContainingNamespace: { Name: "Collections", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } } })
        {
            var item = named.TypeArguments[0];
            return item.SpecialType == SpecialType.System_String ? CommandResultKind.Lines
                : IsJsonType(item) ? CommandResultKind.JsonLines
                : null;
        }

        if (named.Name != "Task" || named.ContainingNamespace is not { Name: "Tasks" } tasks || !IsSystemThreading(tasks.ContainingNamespace))
        {
            return null;
        }

        if (named.Arity == 0)
        {
            return CommandResultKind.Completion;
        }

        var result = named.TypeArguments[0];
        if (result.SpecialType == SpecialType.System_Int32)
        {
            return CommandResultKind.ExitCode;
        }

        if (result.SpecialType == SpecialType.System_String)
        {
            return CommandResultKind.Text;
        }

        var inTypedSandbox = result.ContainingNamespace is { Name: "TypedSandbox", ContainingNamespace.IsGlobalNamespace: true };
        return inTypedSandbox && result.Name == "ExecResult" ? CommandResultKind.Buffered
            : inTypedSandbox && result.Name == "ContainerProcess" ? CommandResultKind.Streaming
            : IsJsonType(result) ? CommandResultKind.Json
            : null;
    }

    /// <summary>The T of a JSON result (<c>Task&lt;T&gt;</c>, <c>IAsyncEnumerable&lt;T&gt;</c>), or <see langword="null"/> for the other results.</summary>
    public static ITypeSymbol? ResultTypeOf(ITypeSymbol type) =>
        ClassifyReturnType(type) is CommandResultKind.Json or CommandResultKind.JsonLines ? ((INamedTypeSymbol)type).TypeArguments[0] : null;

    /// <summary>What System.Text.Json can read into: not an error type, a type parameter, a pointer, a delegate or a Task.</summary>
    private static bool IsJsonType(ITypeSymbol type) =>
        type.TypeKind is not (TypeKind.Error or TypeKind.TypeParameter or TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.Delegate or TypeKind.Dynamic)
        && !(type.Name is "Task" or "ValueTask" && type.ContainingNamespace is { Name: "Tasks" });

    /// <summary>How a parameter reaches the command, and the option's or variable's name.</summary>
    public static ParameterKind KindOf(IParameterSymbol parameter, KnownAttributes known, out string? key)
    {
        key = null;
        if (IsCancellationToken(parameter.Type))
        {
            return ParameterKind.CancellationToken;
        }

        foreach (var attribute in parameter.GetAttributes())
        {
            if (KnownAttributes.Is(attribute, known.Option))
            {
                key = new AttributeValues(attribute).ConstructorString(0);
                return ParameterKind.Option;
            }

            if (KnownAttributes.Is(attribute, known.Env))
            {
                key = new AttributeValues(attribute).ConstructorString(0);
                return ParameterKind.Env;
            }

            if (KnownAttributes.Is(attribute, known.Stdin))
            {
                return ParameterKind.Stdin;
            }
        }

        return ParameterKind.Placeholder;
    }

    /// <summary>Whether a value of this type becomes one argument per element: an array or an IEnumerable, but not a string.</summary>
    public static bool IsCollection(ITypeSymbol type) =>
        type.SpecialType != SpecialType.System_String
        && (type is IArrayTypeSymbol
            || type.SpecialType == SpecialType.System_Collections_IEnumerable
            || type.AllInterfaces.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable));

    /// <summary>Whether a parameter is a CancellationToken, which cancels the command instead of filling a placeholder.</summary>
    public static bool IsCancellationToken(ITypeSymbol type) =>
        type is { Name: "CancellationToken" } && IsSystemThreading(type.ContainingNamespace);

    // Compared part by part: ToDisplayString would build a string for every command and parameter.
    private static bool IsSystemThreading(INamespaceSymbol? ns) =>
        ns is { Name: "Threading", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } };
}
