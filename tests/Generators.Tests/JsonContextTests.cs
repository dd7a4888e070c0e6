using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedSandbox.Generators.Tests.Infrastructure;

namespace TypedSandbox.Generators.Tests;

/// <summary>
/// <c>[Sandbox(JsonContext = typeof(…))]</c> with a real System.Text.Json source-generated context: both generators
/// run, the program compiles, and every JSON result form hands the runtime that context (whose metadata the runtime
/// reads), never the null that means reflection with the web defaults.
/// </summary>
public sealed class JsonContextTests
{
    private const string Source = """
        using System.Collections.Generic;
        using System.Text.Json.Serialization;
        using System.Threading.Tasks;
        using TypedSandbox;

        namespace Demo;

        public sealed record Report(int Passed, int Failed);

        [JsonSerializable(typeof(Report))]
        internal sealed partial class ReportJson : JsonSerializerContext;

        [Sandbox(App = "ci", JsonContext = typeof(ReportJson))]
        public partial class Suite
        {
            [Command("report")]
            public partial Task<Report> ReportAsync();

            [Command("events")]
            public partial IAsyncEnumerable<Report> EventsAsync();

            [Command("cat", "{file}")]
            public partial Task<string> ReadAsync(string file);
        }

        [Sandbox(App = "ci")]
        public partial class PlainSuite
        {
            [Command("report")]
            public partial Task<Report> ReportAsync();
        }
        """;

    [Fact]
    public void Json_results_read_through_the_source_generated_context()
    {
        var compilation = TestCompilation.Create(Source);
        var driver = CSharpGeneratorDriver.Create(
            [new SandboxGenerator().AsSourceGenerator(), SystemTextJsonGenerator()],
            parseOptions: TestCompilation.ParseOptions);

        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);

        Assert.Empty(generatorDiagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        var suite = GeneratedText(output, "Demo.Suite.g.cs");
        Assert.Contains("s_reportAsyncCommand.RunForJsonAsync<global::Demo.Report>(this.Sandbox, global::System.Array.Empty<object?>(), global::Demo.ReportJson.Default, default)", suite, StringComparison.Ordinal);
        Assert.Contains("s_eventsAsyncCommand.StreamJsonLinesAsync<global::Demo.Report>(this.Sandbox, global::System.Array.Empty<object?>(), global::Demo.ReportJson.Default, default)", suite, StringComparison.Ordinal);
        // Without a context the runtime is handed null: reflection with the web defaults.
        Assert.Contains("RunForJsonAsync<global::Demo.Report>(this.Sandbox, global::System.Array.Empty<object?>(), null, default)", GeneratedText(output, "Demo.PlainSuite.g.cs"), StringComparison.Ordinal);

        // The context the generated code passes has the metadata the runtime asks it for.
        var context = new AssemblyLoadContext("json-context-test", isCollectible: true);
        try
        {
            using var image = new MemoryStream();
            var emitted = output.Emit(image);
            Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
            image.Position = 0;
            var assembly = context.LoadFromStream(image);
            var contextType = assembly.GetType("Demo.ReportJson", throwOnError: true)!;
            var instance = contextType.GetProperty("Default", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            var typeInfo = ((System.Text.Json.Serialization.JsonSerializerContext)instance).GetTypeInfo(assembly.GetType("Demo.Report", throwOnError: true)!);
            Assert.NotNull(typeInfo);
            Assert.Equal("Demo.Report", typeInfo.Type.FullName);
        }
        finally
        {
            context.Unload();
        }
    }

    private static string GeneratedText(Compilation compilation, string hintName) =>
        compilation.SyntaxTrees.Single(t => Path.GetFileName(t.FilePath) == hintName).ToString();

    /// <summary>System.Text.Json's source generator, as the SDK runs it in every net10.0 build (from the targeting pack).</summary>
    private static ISourceGenerator SystemTextJsonGenerator()
    {
        var dotnetRoot = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        var pack = Directory.GetDirectories(Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref"))
            .Where(d => Path.GetFileName(d).StartsWith($"{Environment.Version.Major}.", StringComparison.Ordinal))
            .OrderBy(d => Version.Parse(Path.GetFileName(d).Split('-')[0]))
            .Last();
        var assembly = Assembly.LoadFrom(Path.Combine(pack, "analyzers", "dotnet", "cs", "System.Text.Json.SourceGeneration.dll"));
        var generator = assembly.GetTypes().Single(t => t.IsClass && !t.IsAbstract && typeof(IIncrementalGenerator).IsAssignableFrom(t));
        return ((IIncrementalGenerator)Activator.CreateInstance(generator)!).AsSourceGenerator();
    }
}
