using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace TypedSandbox.Generators.Model;

/// <summary>
/// A diagnostic found while parsing, in a form the incremental pipeline can cache: the descriptor's id, where it
/// points (file, span and line span, never a <see cref="Location"/>) and its message arguments as text.
/// </summary>
internal sealed record DiagnosticInfo(string Id, string? FilePath, TextSpan Span, LinePositionSpan LineSpan, EquatableArray<string> Arguments)
{
    /// <summary>Captures a diagnostic about to be reported at <paramref name="location"/>.</summary>
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location location, object?[] arguments)
    {
        var span = location.GetLineSpan();
        return new DiagnosticInfo(
            descriptor.Id,
            location.IsInSource ? span.Path : null,
            location.SourceSpan,
            span.Span,
            arguments.Select(a => a?.ToString() ?? string.Empty).ToEquatableArray());
    }

    /// <summary>The diagnostic to report, rebuilt from the catalogue, in <paramref name="tree"/> when it is the file it points at.</summary>
    public Diagnostic ToDiagnostic(SyntaxTree? tree)
    {
        var location = tree is not null ? Location.Create(tree, Span)
            : FilePath is null ? Location.None
            : Location.Create(FilePath, Span, LineSpan);
        var arguments = new object?[Arguments.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = Arguments[i];
        }

        return Diagnostic.Create(DiagnosticDescriptors.ById(Id), location, arguments);
    }
}
