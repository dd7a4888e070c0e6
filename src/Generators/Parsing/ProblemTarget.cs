using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using TypedSandbox.Generators.Analyzers;
using TypedSandbox.Generators.Model;

namespace TypedSandbox.Generators.Parsing;

/// <summary>
/// Where a problem points: a symbol's location, or an attribute argument (a constructor parameter or a named
/// property, optionally one element of an array). Attribute targets are resolved to syntax only when reported.
/// </summary>
internal readonly struct ProblemTarget
{
    private ProblemTarget(Location? location, AttributeData? attribute, int constructorIndex, string? property, int element)
    {
        Location = location;
        Attribute = attribute;
        ConstructorIndex = constructorIndex;
        Property = property;
        Element = element;
    }

    public Location? Location { get; }

    public AttributeData? Attribute { get; }

    public int ConstructorIndex { get; }

    public string? Property { get; }

    public int Element { get; }

    public static ProblemTarget At(Location? location) => new(location, null, -1, null, -1);

    public static ProblemTarget WholeAttribute(AttributeData attribute) => new(null, attribute, -1, null, -1);

    public static ProblemTarget ConstructorArgument(AttributeData attribute, int index, int element = -1) =>
        new(null, attribute, index, null, element);

    public static ProblemTarget NamedArgument(AttributeData attribute, string property, int element = -1) =>
        new(null, attribute, -1, property, element);
}

/// <summary>Receives the problems found by <see cref="SandboxChecks"/>.</summary>
internal interface IProblemSink
{
    void Report(DiagnosticDescriptor descriptor, ProblemTarget target, ImmutableDictionary<string, string?>? properties, params object?[] messageArgs);
}

/// <summary>
/// The generator's sink: it keeps the errors, located and in cacheable form, so the generator can report them itself.
/// A build stops before running analyzers when the generator reports an error, so every error must come from here.
/// </summary>
internal sealed class DiagnosticCollector : IProblemSink
{
    private readonly CancellationToken _cancellationToken;
    private readonly List<DiagnosticInfo> _errors = new List<DiagnosticInfo>();

    public DiagnosticCollector(CancellationToken cancellationToken)
    {
        _cancellationToken = cancellationToken;
    }

    public bool HasErrors => _errors.Count > 0;

    public EquatableArray<DiagnosticInfo> Errors => _errors.ToEquatableArray();

    public void Report(DiagnosticDescriptor descriptor, ProblemTarget target, ImmutableDictionary<string, string?>? properties, params object?[] messageArgs)
    {
        if (descriptor.DefaultSeverity == DiagnosticSeverity.Error)
        {
            _errors.Add(DiagnosticInfo.Create(descriptor, ArgumentLocator.Locate(target, _cancellationToken), messageArgs));
        }
    }
}
