using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Parsing;

/// <summary>Turns the rule book's problems into diagnostics: the rule picks the descriptor, the caller the location.</summary>
internal static class RuleDiagnostics
{
    /// <summary>The diagnostic of a broken rule.</summary>
    public static DiagnosticDescriptor DescriptorOf(Rule rule) => rule switch
    {
        Rule.Name => DiagnosticDescriptors.InvalidName,
        Rule.Timeout => DiagnosticDescriptors.InvalidTimeout,
        Rule.IdleTimeoutExceedsTimeout => DiagnosticDescriptors.IdleTimeoutExceedsTimeout,
        Rule.CommandTimeoutExceedsTimeout => DiagnosticDescriptors.CommandTimeoutExceedsSandboxTimeout,
        Rule.Workdir => DiagnosticDescriptors.RelativeWorkdir,
        Rule.Resource => DiagnosticDescriptors.InvalidResource,
        Rule.NetworkConflict => DiagnosticDescriptors.BlockNetworkConflict,
        Rule.Cidr => DiagnosticDescriptors.InvalidCidr,
        Rule.MountPath => DiagnosticDescriptors.InvalidMountPath,
        Rule.DuplicateMountPath => DiagnosticDescriptors.DuplicateMountPath,
        Rule.EnvironmentKey => DiagnosticDescriptors.InvalidEnvironmentKey,
        Rule.Tag => DiagnosticDescriptors.InvalidTag,
        Rule.DuplicateTag => DiagnosticDescriptors.DuplicateTagKey,
        Rule.ImageReference => DiagnosticDescriptors.InvalidImageReference,
        _ => DiagnosticDescriptors.MalformedCommand,
    };

    /// <summary>
    /// Reports a problem at <paramref name="target"/>. An invalid timeout written so that a person's meaning can be
    /// read ("10 min") carries the canonical form for the code fix.
    /// </summary>
    public static void Report(Problem problem, ProblemTarget target, IProblemSink sink, AttributeValues? attribute = null)
    {
        ImmutableDictionary<string, string?>? properties = null;
        if (problem.Rule == Rule.Timeout && attribute is { } values)
        {
            var text = values.String(problem.Field);
            if (Durations.TryParseLenient(text, out var meant) && Durations.CheckTimeout(Durations.Format(meant), problem.Field, out _) is null)
            {
                properties = Canonical(Durations.Format(meant));
            }
        }

        sink.Report(DescriptorOf(problem.Rule), target, properties, problem.Message);
    }

    /// <summary>TSB0005 for each declared timeout that parses but is not written canonically.</summary>
    public static void ReportNonCanonical(AttributeValues attribute, IProblemSink sink, params string[] properties)
    {
        foreach (var property in properties)
        {
            var text = attribute.String(property);
            if (attribute.Has(property) && Durations.CheckTimeout(text, property, out var value) is null
                && !string.Equals(Durations.Format(value), text, StringComparison.Ordinal))
            {
                sink.Report(DiagnosticDescriptors.TimeoutNotCanonical, ProblemTarget.NamedArgument(attribute.Data, property), Canonical(Durations.Format(value)), text, Durations.Format(value));
            }
        }
    }

    /// <summary>A timeout as the rule book reads it from a named argument: absent when not written.</summary>
    public static TimeoutSetting Timeout(AttributeValues attribute, string property) =>
        attribute.Data is not null && attribute.Has(property) ? TimeoutSetting.FromText(attribute.String(property) ?? string.Empty) : default;

    private static ImmutableDictionary<string, string?> Canonical(string canonical) =>
        ImmutableDictionary<string, string?>.Empty.Add(DiagnosticDescriptors.CanonicalProperty, canonical);
}
