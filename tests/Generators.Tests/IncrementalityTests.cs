using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedSandbox.Generators.Tests.Infrastructure;

namespace TypedSandbox.Generators.Tests;

public class IncrementalityTests
{
    private static readonly string[] StepNames =
        [SandboxGenerator.Steps.ClassParses, SandboxGenerator.Steps.CommandParses, SandboxGenerator.Steps.Classes, SandboxGenerator.Steps.Commands, SandboxGenerator.Steps.Models];

    private const string Runner = """
        using System.Threading.Tasks;
        using TypedSandbox;

        namespace Demo;

        [Sandbox(App = "my-app", Timeout = "10m")]
        [SandboxImage("python:3.13-slim")]
        [Volume("/data", "my-volume")]
        partial class TestRunner
        {
            [Command("pytest", "-q", "{path}")]
            public partial Task<ExecResult> RunTestsAsync(string path);
        }
        """;

    private const string Linter = """
        using System.Threading.Tasks;
        using TypedSandbox;

        namespace Demo;

        [Sandbox(App = "lint")]
        partial class Linter
        {
            [Command("ruff", "check", "{path}")]
            public partial Task<int> CheckAsync(string path);
        }
        """;

    private const string Unrelated = """
        namespace Demo;

        public static class Calculator
        {
            public static int Add(int a, int b) => a + b;
        }
        """;

    [Fact]
    public void An_unrelated_edit_leaves_every_step_cached_or_unchanged()
    {
        var compilation = TestCompilation.Create(Runner, Linter, Unrelated);
        var driver = TestCompilation.CreateDriver().RunGenerators(compilation);
        var unrelated = compilation.SyntaxTrees.Single(t => t.ToString().Contains("Calculator", StringComparison.Ordinal));
        var edited = compilation.ReplaceSyntaxTree(
            unrelated,
            unrelated.WithChangedText(unrelated.GetText().Replace(unrelated.ToString().IndexOf("a + b", StringComparison.Ordinal), 5, "b + a + 0")));

        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var name in StepNames)
        {
            Assert.True(result.TrackedSteps.ContainsKey(name), $"step {name} was not tracked");
            Assert.NotEmpty(result.TrackedSteps[name].SelectMany(step => step.Outputs));
            foreach (var (_, reason) in result.TrackedSteps[name].SelectMany(step => step.Outputs))
            {
                Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step {name} reran: {reason}");
            }
        }

        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Editing_one_class_regenerates_only_that_class()
    {
        var compilation = TestCompilation.Create(Runner, Linter, Unrelated);
        var driver = TestCompilation.CreateDriver().RunGenerators(compilation);
        var linter = compilation.SyntaxTrees.Single(t => t.ToString().Contains("Linter", StringComparison.Ordinal));
        var edited = compilation.ReplaceSyntaxTree(linter, CSharpSyntaxTree.ParseText(Linter.Replace("\"check\"", "\"format\"", StringComparison.Ordinal), TestCompilation.ParseOptions, linter.FilePath));

        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var models = result.TrackedSteps[SandboxGenerator.Steps.Models].SelectMany(s => s.Outputs).ToList();
        Assert.Equal(2, models.Count);
        Assert.Single(models, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Single(models, o => o.Reason is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void No_step_output_holds_symbols_syntax_or_compilations()
    {
        var compilation = TestCompilation.Create(Runner, Linter, File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "FullDefinition", "Input.cs")));
        var result = TestCompilation.CreateDriver().RunGenerators(compilation).GetRunResult().Results.Single();

        var visited = 0;
        foreach (var name in StepNames)
        {
            foreach (var (value, _) in result.TrackedSteps[name].SelectMany(step => step.Outputs))
            {
                visited += Walk(value, $"{name} output", new HashSet<object>(ReferenceEqualityComparer.Instance));
            }
        }

        Assert.True(visited > 20, $"only {visited} values were visited");
    }

    [Fact]
    public void A_class_with_sandbox_on_two_parts_generates_nothing_instead_of_crashing()
    {
        var compilation = TestCompilation.Create("""
            using TypedSandbox;

            [Sandbox]
            partial class Twice
            {
            }

            [Sandbox]
            partial class Twice
            {
            }
            """);
        var result = TestCompilation.CreateDriver().RunGenerators(compilation).GetRunResult();

        Assert.Empty(result.Diagnostics);
        Assert.Empty(result.GeneratedTrees);
    }

    /// <summary>Visits a value's object graph, failing on anything that pins a compilation in memory.</summary>
    private static int Walk(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return 1;
        }

        Assert.False(value is ISymbol, $"{path} holds a symbol ({value.GetType().Name})");
        Assert.False(value is SyntaxNode, $"{path} holds a syntax node ({value.GetType().Name})");
        Assert.False(value is Compilation, $"{path} holds a compilation");
        Assert.False(value is SemanticModel, $"{path} holds a semantic model");
        Assert.False(value is Location, $"{path} holds a location");
        Assert.False(value is AttributeData, $"{path} holds attribute data");

        var count = 1;
        if (value is IEnumerable sequence)
        {
            var i = 0;
            foreach (var item in sequence)
            {
                count += Walk(item, $"{path}[{i++}]", seen);
            }

            return count;
        }

        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0 && property.Name != "EqualityContract")
            {
                count += Walk(property.GetValue(value), $"{path}.{property.Name}", seen);
            }
        }

        foreach (var field in value.GetType().GetFields(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance))
        {
            count += Walk(field.GetValue(value), $"{path}.{field.Name}", seen);
        }

        return count;
    }
}
