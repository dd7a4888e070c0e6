using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedSandbox.Generators.Parsing;

/// <summary>Typed access to the constructor and named arguments of one attribute application.</summary>
internal readonly struct AttributeValues
{
    public AttributeValues(AttributeData data)
    {
        Data = data;
    }

    public AttributeData Data { get; }

    /// <summary>Whether the named argument was written.</summary>
    public bool Has(string property) => Data.NamedArguments.Any(a => a.Key == property);

    public string? String(string property) => Named(property)?.Value as string;

    public bool Bool(string property, bool fallback = false) => Named(property)?.Value is bool value ? value : fallback;

    public int Int(string property) => Named(property)?.Value is int value ? value : 0;

    public double Double(string property) => Named(property)?.Value is double value ? value : 0;

    public ImmutableArray<string?> Strings(string property) => Elements<string>(Named(property));

    public ImmutableArray<int> Ints(string property) =>
        Named(property) is { Kind: TypedConstantKind.Array, IsNull: false } array
            ? array.Values.Select(v => v.Value is int i ? i : 0).ToImmutableArray()
            : ImmutableArray<int>.Empty;

    public string? ConstructorString(int index) =>
        index < Data.ConstructorArguments.Length ? Data.ConstructorArguments[index].Value as string : null;

    /// <summary>Whether the attribute was applied through a constructor with at least <paramref name="count"/> parameters.</summary>
    public bool HasConstructorArguments(int count) => Data.ConstructorArguments.Length >= count;

    public ImmutableArray<string?> ConstructorStrings(int index) =>
        index < Data.ConstructorArguments.Length ? Elements<string>(Data.ConstructorArguments[index]) : ImmutableArray<string?>.Empty;

    private TypedConstant? Named(string property)
    {
        foreach (var argument in Data.NamedArguments)
        {
            if (argument.Key == property)
            {
                return argument.Value;
            }
        }

        return null;
    }

    private static ImmutableArray<string?> Elements<T>(TypedConstant? constant) =>
        constant is { Kind: TypedConstantKind.Array, IsNull: false } array
            ? array.Values.Select(v => v.Value as string).ToImmutableArray()
            : ImmutableArray<string?>.Empty;
}
