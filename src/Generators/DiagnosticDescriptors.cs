using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace TypedSandbox.Generators;

/// <summary>
/// The one catalogue of TypedSandbox diagnostics. Ids are stable and never reused; each message is "{0}", filled with
/// the shared validation rule's text (what is wrong and what is allowed), so compile time and run time say the same.
/// </summary>
internal static class DiagnosticDescriptors
{
    /// <summary>The property of a timeout diagnostic that carries the canonical rewrite for the code fix.</summary>
    public const string CanonicalProperty = "Canonical";

    private const string Category = "TypedSandbox";

    public static readonly DiagnosticDescriptor SandboxClassNotPartial = Error(
        "TSB0001", "[Sandbox] class must be partial", "Class '{0}' has [Sandbox] but is not partial; declare it 'partial' so the generator can add its members");

    public static readonly DiagnosticDescriptor CommandMethodNotPartial = Error(
        "TSB0002", "[Command] method must be partial", "Method '{0}' has [Command] but is not a partial method without a body; declare it 'partial' and end it with ';'");

    public static readonly DiagnosticDescriptor InvalidName = Error(
        "TSB0003", "Invalid app, sandbox, volume or secret name", "{0}");

    public static readonly DiagnosticDescriptor InvalidTimeout = Error(
        "TSB0004", "Invalid timeout", "{0}");

    public static readonly DiagnosticDescriptor TimeoutNotCanonical = new(
        "TSB0005", "Timeout not in canonical form", "Timeout '{0}' can be written '{1}'", Category, DiagnosticSeverity.Hidden,
        isEnabledByDefault: true, helpLinkUri: HelpLink("TSB0005"));

    public static readonly DiagnosticDescriptor IdleTimeoutExceedsTimeout = Error(
        "TSB0006", "Idle timeout longer than the sandbox timeout", "{0}");

    public static readonly DiagnosticDescriptor CommandTimeoutExceedsSandboxTimeout = Error(
        "TSB0007", "Command timeout longer than the sandbox timeout", "{0}");

    public static readonly DiagnosticDescriptor InvalidTag = Error(
        "TSB0008", "Invalid tag key or value", "{0}");

    public static readonly DiagnosticDescriptor DuplicateTagKey = Error(
        "TSB0009", "Duplicate tag key", "{0}");

    public static readonly DiagnosticDescriptor InvalidMountPath = Error(
        "TSB0010", "Invalid mount path", "{0}");

    public static readonly DiagnosticDescriptor DuplicateMountPath = Error(
        "TSB0011", "Duplicate mount path", "{0}");

    public static readonly DiagnosticDescriptor InvalidEnvironmentKey = Error(
        "TSB0012", "Invalid environment variable key", "{0}");

    public static readonly DiagnosticDescriptor RelativeWorkdir = Error(
        "TSB0013", "Working directory not absolute", "{0}");

    public static readonly DiagnosticDescriptor InvalidImageReference = Error(
        "TSB0014", "Malformed image reference", "{0}");

    public static readonly DiagnosticDescriptor PlaceholderWithoutParameter = Error(
        "TSB0015", "Placeholder without a parameter", "Placeholder '{{{0}}}' does not name a parameter of '{1}'; use one of: {2}");

    public static readonly DiagnosticDescriptor ParameterWithoutPlaceholder = Error(
        "TSB0016", "Parameter without a placeholder", "Parameter '{0}' is not used by the command; add '{{{0}}}' to an argument or remove the parameter");

    public static readonly DiagnosticDescriptor MalformedCommand = Error(
        "TSB0017", "Malformed command line", "{0}");

    public static readonly DiagnosticDescriptor UnsupportedReturnType = Error(
        "TSB0018", "Unsupported [Command] return type", "Return type '{0}' is not supported; use Task (fails on a non-zero exit), Task<int> (exit code), Task<string> (stdout), Task<ExecResult> (exit code and output), Task<ContainerProcess> (streaming), Task<T> (stdout as JSON), IAsyncEnumerable<string> (stdout lines) or IAsyncEnumerable<T> (JSON Lines)");

    public static readonly DiagnosticDescriptor BlockNetworkConflict = Error(
        "TSB0019", "BlockNetwork with an allow-list or tunnels", "{0}");

    public static readonly DiagnosticDescriptor CommandOutsideSandbox = Error(
        "TSB0020", "[Command] outside a [Sandbox] class", "Method '{0}' has [Command] but '{1}' has no [Sandbox]; add [Sandbox] to the class");

    public static readonly DiagnosticDescriptor UnsupportedSandboxClass = Error(
        "TSB0021", "Unsupported [Sandbox] class", "Class '{0}' is {1}; [Sandbox] classes must be non-generic, non-static, non-abstract and declared directly in a namespace");

    public static readonly DiagnosticDescriptor UnsupportedCommandMethod = Error(
        "TSB0022", "Unsupported [Command] method", "Method '{0}' {1}; [Command] methods must be non-generic instance methods with plain by-value parameters");

    public static readonly DiagnosticDescriptor InvalidResource = Error(
        "TSB0023", "Invalid resource value", "{0}");

    public static readonly DiagnosticDescriptor ProgramWithWhitespace = new(
        "TSB0024", "Program contains whitespace", "Program '{0}' contains whitespace; commands run without a shell, so give the program and each argument as its own string: {1}",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpLink("TSB0024"));

    public static readonly DiagnosticDescriptor CollectionInsideArgument = Error(
        "TSB0025", "Collection placeholder inside a longer argument", "Parameter '{0}' is a collection, but argument '{1}' has text around its placeholder; a collection becomes one argument per element, so give it a whole argument such as \"{{{0}}}\", or use [Option]");

    public static readonly DiagnosticDescriptor UnsupportedParameter = Error(
        "TSB0026", "Unsupported [Command] parameter", "Parameter '{0}' {1}");

    public static readonly DiagnosticDescriptor InvalidJsonContext = Error(
        "TSB0027", "JsonContext is not a JsonSerializerContext", "JsonContext '{0}' is not a System.Text.Json JsonSerializerContext; give a source-generated context such as '[JsonSerializable(typeof(MyResult))] partial class MyJson : JsonSerializerContext'");

    public static readonly DiagnosticDescriptor InvalidCidr = Error(
        "TSB0028", "Invalid CIDR range", "{0}");

    /// <summary>Every descriptor of the catalogue, by id.</summary>
    public static IReadOnlyDictionary<string, DiagnosticDescriptor> All { get; } = typeof(DiagnosticDescriptors)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => f.GetValue(null))
        .OfType<DiagnosticDescriptor>()
        .ToDictionary(d => d.Id);

    /// <summary>The descriptor with <paramref name="id"/>.</summary>
    public static DiagnosticDescriptor ById(string id) => All[id];

    /// <summary>The help page of a diagnostic, built from its id.</summary>
    public static string HelpLink(string id) => $"https://github.com/typedsandbox/typedsandbox/blob/main/docs/diagnostics.md#{id.ToLowerInvariant()}";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink(id));
}
