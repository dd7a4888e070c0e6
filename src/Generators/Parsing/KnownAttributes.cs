using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace TypedSandbox.Generators.Parsing;

/// <summary>
/// TypedSandbox's attribute types, resolved once per compilation with <c>GetTypeByMetadataName</c>; attributes are
/// then matched by symbol (<see cref="SymbolEqualityComparer.Default"/>), never by name on every symbol.
/// </summary>
internal sealed class KnownAttributes
{
    // The generator's transforms run per declaration; a compilation's types are resolved for the first one only.
    private static readonly ConditionalWeakTable<Compilation, KnownAttributes> Cache = new ConditionalWeakTable<Compilation, KnownAttributes>();

    private KnownAttributes(Compilation compilation)
    {
        Sandbox = Resolve(compilation, "SandboxAttribute");
        SandboxImage = Resolve(compilation, "SandboxImageAttribute");
        Volume = Resolve(compilation, "VolumeAttribute");
        Secret = Resolve(compilation, "SecretAttribute");
        SecretFromEnvironment = Resolve(compilation, "SecretFromEnvironmentAttribute");
        Tag = Resolve(compilation, "TagAttribute");
        Entrypoint = Resolve(compilation, "EntrypointAttribute");
        Command = Resolve(compilation, "CommandAttribute");
        Option = Resolve(compilation, "OptionAttribute");
        Env = Resolve(compilation, "EnvAttribute");
        Stdin = Resolve(compilation, "StdinAttribute");
    }

    /// <summary><c>[Sandbox]</c>.</summary>
    public INamedTypeSymbol? Sandbox { get; }

    /// <summary><c>[SandboxImage]</c>.</summary>
    public INamedTypeSymbol? SandboxImage { get; }

    /// <summary><c>[Volume]</c>.</summary>
    public INamedTypeSymbol? Volume { get; }

    /// <summary><c>[Secret]</c>.</summary>
    public INamedTypeSymbol? Secret { get; }

    /// <summary><c>[SecretFromEnvironment]</c>.</summary>
    public INamedTypeSymbol? SecretFromEnvironment { get; }

    /// <summary><c>[Tag]</c>.</summary>
    public INamedTypeSymbol? Tag { get; }

    /// <summary><c>[Entrypoint]</c>.</summary>
    public INamedTypeSymbol? Entrypoint { get; }

    /// <summary><c>[Command]</c>.</summary>
    public INamedTypeSymbol? Command { get; }

    /// <summary><c>[Option]</c>.</summary>
    public INamedTypeSymbol? Option { get; }

    /// <summary><c>[Env]</c>.</summary>
    public INamedTypeSymbol? Env { get; }

    /// <summary><c>[Stdin]</c>.</summary>
    public INamedTypeSymbol? Stdin { get; }

    /// <summary>Whether the compilation references TypedSandbox's attributes at all.</summary>
    public bool Any => Sandbox is not null || Command is not null;

    /// <summary>The attribute types of <paramref name="compilation"/>, resolved on the first call for it.</summary>
    public static KnownAttributes From(Compilation compilation) => Cache.GetValue(compilation, static c => new KnownAttributes(c));

    /// <summary>The applications of <paramref name="attribute"/> on <paramref name="symbol"/>, in source order.</summary>
    public static IEnumerable<AttributeValues> Find(ISymbol symbol, INamedTypeSymbol? attribute) =>
        attribute is null
            ? Enumerable.Empty<AttributeValues>()
            : symbol.GetAttributes().Where(a => Is(a, attribute)).Select(a => new AttributeValues(a));

    /// <summary>Whether <paramref name="data"/> applies <paramref name="attribute"/>.</summary>
    public static bool Is(AttributeData data, INamedTypeSymbol? attribute) =>
        attribute is not null && SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute);

    private static INamedTypeSymbol? Resolve(Compilation compilation, string name) =>
        compilation.GetTypeByMetadataName("TypedSandbox." + name);
}
