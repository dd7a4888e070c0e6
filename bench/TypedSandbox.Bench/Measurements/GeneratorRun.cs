using System.Diagnostics;
using System.Globalization;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Reporting;
using TypedSandbox.Generators;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// The source generator on a project of N <c>[Sandbox]</c> classes (three commands each) and 50 plain classes: a full
/// driver run on a fresh compilation, then keystroke-like edits rerun incrementally on the same driver — a one-character
/// change in an unrelated method body, in a plain method of one sandbox class, and in one command's arguments — with
/// the reasons Roslyn records for every step (design §7: an unrelated edit reruns nothing; N = 500 in ≤ 200 ms).
/// </summary>
internal static class GeneratorRun
{
    public const string Title = "6. source generator (`SandboxGenerator`)";

    public static readonly Target Goal = new("≤ 200 ms", median => median <= 200);

    private const int PlainClasses = 50;

    /// <summary>Roslyn's and the generator's code paths are JIT-compiled (and re-tiered) over the first runs.</summary>
    private const int MinimumWarmup = 5;

    private static readonly string[] StepNames =
        [SandboxGenerator.Steps.Classes, SandboxGenerator.Steps.Commands, SandboxGenerator.Steps.Models];

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static Task RunAsync(BenchOptions options, Report report, CancellationToken cancellationToken)
    {
        var section = report.Section(Title, "ms");
        var classes = options.GeneratorClasses;
        var trees = Enumerable.Range(0, classes).Select(i => Parse(SandboxClass(i, "41 + 1", "-q"), $"Runner{i}.cs"))
            .Concat(Enumerable.Range(0, PlainClasses).Select(i => Parse(PlainClass(i, "x + 1"), $"Util{i}.cs")))
            .ToList();
        var compilation = CreateCompilation(trees);
        EnsureGeneratedCodeCompiles(compilation, classes, section);

        // JIT first: Roslyn's and the generator's code paths, so the first series measured is not the slowest.
        FullRuns(new SandboxGenerator(), trees, options, cancellationToken);

        // The pipeline cut short stage by stage, each against the floor: Roslyn finding the same attributed
        // declarations and binding their symbols, with nothing parsed or generated.
        var floor = FullRuns(new AttributeFloorGenerator(), trees, options, cancellationToken);
        section.Latency("floor: attribute lookups and symbols only, nothing generated — CPU time", floor.Cpu);
        var stages = new (string Subject, IIncrementalGenerator Generator)[]
        {
            ("stage: + transforms and checks (the specs) — CPU time", new GeneratorStages(emit: false)),
            ("stage: + models (commands grouped by class) — CPU time", new GeneratorStages(emit: true, modelsOnly: true)),
            ("stage: + emitter (text made, not added) — CPU time", new GeneratorStages(emit: true)),
        };
        foreach (var (stageSubject, generator) in stages)
        {
            section.Latency(stageSubject, FullRuns(generator, trees, options, cancellationToken).Cpu, ("floor", floor.Cpu));
        }

        var full = FullRuns(new SandboxGenerator(), trees, options, cancellationToken);
        var subject = $"full run: + AddSource (Roslyn parses the files), {classes} sandbox classes + {PlainClasses} plain classes";
        section.Latency(subject + " — CPU time", full.Cpu, ("floor", floor.Cpu), Goal);
        section.Latency(subject + " — wall clock", full.Wall, ("floor", floor.Wall), Goal);

        var edits = new (string Subject, string File, string Before, string After, bool RegeneratesOneFile)[]
        {
            ("edit: one character in an unrelated method body", "Util0.cs", "x + 1", "x + 2", false),
            ("edit: one character in a plain method of one sandbox class", "Runner0.cs", "41 + 1", "41 + 2", false),
            ("edit: one character in one command's arguments", "Runner0.cs", "\"-q\"", "\"-x\"", true),
        };
        foreach (var edit in edits)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ((wall, cpu), reasons) = MeasureEdit(new SandboxGenerator(), compilation, edit.File, edit.Before, edit.After, options, cancellationToken);
            var ((_, floorCpu), _) = MeasureEdit(new AttributeFloorGenerator(), compilation, edit.File, edit.Before, edit.After, options, cancellationToken);
            var expected = edit.RegeneratesOneFile ? "one model and one file regenerated, the rest Cached/Unchanged" : "every step Cached/Unchanged";
            var met = edit.RegeneratesOneFile ? OnlyOneModelModified(reasons) : NothingReran(reasons);
            section.Latency(edit.Subject + " — wall clock", wall);
            section.Latency(edit.Subject + " — CPU time", cpu, ("floor", floorCpu));
            section.Notes.Add($"{edit.Subject}: {Describe(reasons)} — expected {expected}: {(met ? "yes ✓" : "NO ✗")}");
        }

        section.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"timings are `GeneratorDriver.RunGenerators` only (CPU time: the whole process, GC included), step tracking off (a second driver with tracking on supplies the reasons); " +
            $"median of {options.GeneratorRuns} after {Math.Max(options.Warmup, MinimumWarmup)} warm-up, a full GC before each; edits alternate between the two versions of the file on one driver"));
        return Task.CompletedTask;
    }

    /// <summary>Times an edit on a warmed driver, then replays it on a tracking driver to read the step reasons.</summary>
    private static ((Samples Wall, Samples Cpu) Samples, Dictionary<string, Dictionary<IncrementalStepRunReason, int>> Reasons) MeasureEdit(
        IIncrementalGenerator generator,
        CSharpCompilation compilation, string file, string before, string after, BenchOptions options, CancellationToken cancellationToken)
    {
        var original = compilation.SyntaxTrees.Single(t => t.FilePath == file);
        var edited = original.WithChangedText(Replace(original.GetText(cancellationToken), before, after));
        var versions = new[] { original, edited };

        var driver = CreateDriver(generator, track: false).RunGenerators(compilation, cancellationToken);
        var current = compilation;
        var step = 0;
        var samples = Repeat(
            options.Warmup,
            options.GeneratorRuns,
            prepare: () =>
            {
                current = current.ReplaceSyntaxTree(versions[step % 2], versions[(step + 1) % 2]);
                step++;
            },
            measure: () => driver = driver.RunGenerators(current, cancellationToken));

        var tracking = CreateDriver(generator, track: true).RunGenerators(compilation, cancellationToken);
        var result = tracking.RunGenerators(compilation.ReplaceSyntaxTree(original, edited), cancellationToken).GetRunResult().Results.Single();
        var reasons = new Dictionary<string, Dictionary<IncrementalStepRunReason, int>>(StringComparer.Ordinal);
        foreach (var name in StepNames)
        {
            reasons[name] = Count(result.TrackedSteps.TryGetValue(name, out var steps) ? steps.SelectMany(s => s.Outputs).Select(o => o.Reason) : []);
        }

        reasons["source outputs"] = Count(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason));
        return (samples, reasons);
    }

    private static bool NothingReran(Dictionary<string, Dictionary<IncrementalStepRunReason, int>> reasons) =>
        reasons.Values.All(counts => counts.Keys.All(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));

    private static bool OnlyOneModelModified(Dictionary<string, Dictionary<IncrementalStepRunReason, int>> reasons) =>
        reasons[SandboxGenerator.Steps.Models].GetValueOrDefault(IncrementalStepRunReason.Modified) == 1 &&
        reasons[SandboxGenerator.Steps.Models].Keys.All(r => r is IncrementalStepRunReason.Modified or IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged) &&
        reasons["source outputs"].GetValueOrDefault(IncrementalStepRunReason.Modified) == 1;

    private static Dictionary<IncrementalStepRunReason, int> Count(IEnumerable<IncrementalStepRunReason> reasons) =>
        reasons.GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());

    private static string Describe(Dictionary<string, Dictionary<IncrementalStepRunReason, int>> reasons) =>
        string.Join("; ", reasons.Select(step => $"{step.Key} " +
            string.Join(", ", step.Value.OrderBy(r => r.Key).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Value} {r.Key}")))));

    /// <summary>Full runs of <paramref name="generator"/>: a fresh compilation (no bound symbols cached) and a fresh driver each time.</summary>
    private static (Samples Wall, Samples Cpu) FullRuns(IIncrementalGenerator generator, IReadOnlyList<SyntaxTree> trees, BenchOptions options, CancellationToken cancellationToken)
    {
        CSharpCompilation? fresh = null;
        GeneratorDriver? driver = null;
        return Repeat(
            options.Warmup,
            options.GeneratorRuns,
            prepare: () =>
            {
                fresh = CreateCompilation(trees);
                driver = CreateDriver(generator, track: false);
            },
            measure: () => driver!.RunGenerators(fresh!, cancellationToken));
    }

    /// <summary>The generated code must compile: the benchmark measures a generator that does its whole job.</summary>
    private static void EnsureGeneratedCodeCompiles(CSharpCompilation compilation, int classes, ReportSection section)
    {
        CreateDriver(track: false).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var generatedTrees = output.SyntaxTrees.Skip(compilation.SyntaxTrees.Length).ToList();
        var generated = generatedTrees.Count;
        var generatedChars = generatedTrees.Sum(t => t.Length);
        var errors = generatorDiagnostics.Concat(output.GetDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (generated != classes || errors.Count > 0)
        {
            throw new InvalidOperationException(
                $"The generator produced {generated} files for {classes} classes with {errors.Count} errors; first: {errors.FirstOrDefault()}");
        }

        section.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"the project: {classes} sandbox classes (3 commands each, image build steps, volume, tag) in one file each, {PlainClasses} plain classes; " +
            $"the {generated} generated files ({generatedChars / 1024} KiB of C#) compile without errors; every run is a fresh driver on a fresh compilation"));
    }

    /// <summary>Wall-clock and process CPU time of each call (CPU time stays meaningful on a busy host).</summary>
    private static (Samples Wall, Samples Cpu) Repeat(int warmup, int iterations, Action prepare, Action measure)
    {
        // Garbage of the previous run is collected before the clock starts, so each run pays for its own.
        prepare += () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        };
        for (var i = 0; i < Math.Max(warmup, MinimumWarmup); i++)
        {
            prepare();
            measure();
        }

        var wall = new List<TimeSpan>(iterations);
        var cpu = new List<TimeSpan>(iterations);
        for (var i = 0; i < iterations; i++)
        {
            prepare();
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var watch = Stopwatch.StartNew();
            measure();
            wall.Add(watch.Elapsed);
            cpu.Add(Environment.CpuUsage.TotalTime - cpuBefore);
        }

        return (Samples.Of(wall), Samples.Of(cpu));
    }

    private static SourceText Replace(SourceText text, string before, string after)
    {
        var at = text.ToString().IndexOf(before, StringComparison.Ordinal);
        return text.WithChanges(new TextChange(new TextSpan(at, before.Length), after));
    }

    private static SyntaxTree Parse(string source, string path) => CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    private static CSharpCompilation CreateCompilation(IEnumerable<SyntaxTree> trees) =>
        CSharpCompilation.Create(
            "GeneratorBench",
            trees,
            [
                .. Net100.References.All,
                MetadataReference.CreateFromFile(typeof(SandboxAttribute).Assembly.Location),
                MetadataReference.CreateFromFile(typeof(SandboxClient).Assembly.Location),
            ],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    private static CSharpGeneratorDriver CreateDriver(bool track) => CreateDriver(new SandboxGenerator(), track);

    private static CSharpGeneratorDriver CreateDriver(IIncrementalGenerator generator, bool track) =>
        CSharpGeneratorDriver.Create(
            [generator.AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));

    private static string SandboxClass(int i, string helperBody, string testFlag) => $$"""
        using System.Threading;
        using System.Threading.Tasks;
        using TypedSandbox;

        namespace Bench.Sandboxes{{i % 10}};

        [Sandbox(App = "bench-{{i}}", Timeout = "10m", IdleTimeout = "2m")]
        [SandboxImage("python:3.13-slim", AptInstall = ["git"], PipInstall = ["pytest"])]
        [Volume("/data", "volume-{{i}}")]
        [Tag("suite", "bench")]
        partial class Runner{{i}}
        {
            [Command("pytest", "{{testFlag}}", "{path}")]
            public partial Task<ExecResult> RunTestsAsync(string path);

            [Command("sh", "-c", "exit {code}", Timeout = "30s")]
            public partial Task<int> ExitAsync(int code, CancellationToken cancellationToken = default);

            [Command("seq", "1", "{count}")]
            public partial Task<ContainerProcess> CountAsync(int count);

            public static int Helper() => {{helperBody}};
        }
        """;

    private static string PlainClass(int i, string body) => $$"""
        namespace Bench.Plain;

        public static class Util{{i}}
        {
            public static int Compute(int x)
            {
                return {{body}};
            }
        }
        """;
}
