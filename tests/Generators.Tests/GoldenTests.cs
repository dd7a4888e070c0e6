using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using TypedSandbox.Generators.Tests.Infrastructure;

namespace TypedSandbox.Generators.Tests;

/// <summary>
/// Compares generated source with the files under Golden/&lt;case&gt;/ (Input.cs and one expected file per hint name).
/// Set TYPEDSANDBOX_UPDATE_GOLDEN=1 to rewrite the expected files from the generator's current output.
/// </summary>
public class GoldenTests
{
    public static TheoryData<string> Cases => new(Directory.GetDirectories(OutputGoldenDirectory).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal));

    /// <summary>The copies beside the test assembly; the update mode writes to the source tree instead.</summary>
    private static string OutputGoldenDirectory => Path.Combine(AppContext.BaseDirectory, "Golden");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_source_matches_the_golden_files(string name)
    {
        var update = Environment.GetEnvironmentVariable("TYPEDSANDBOX_UPDATE_GOLDEN") == "1";
        var directory = Path.Combine(update ? SourceGoldenDirectory() : OutputGoldenDirectory, name);
        var compilation = TestCompilation.Create(File.ReadAllText(Path.Combine(directory, "Input.cs")));
        var driver = TestCompilation.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);

        Assert.Empty(generatorDiagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));

        var generated = driver.GetRunResult().GeneratedTrees.ToDictionary(t => Path.GetFileName(t.FilePath), t => t.GetText().ToString());
        if (update)
        {
            foreach (var stale in Directory.GetFiles(directory, "*.g.cs"))
            {
                File.Delete(stale);
            }

            foreach (var (hint, text) in generated)
            {
                File.WriteAllText(Path.Combine(directory, hint), text);
            }
        }

        var expected = Directory.GetFiles(directory, "*.g.cs").ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), generated.Keys.Order(StringComparer.Ordinal));
        foreach (var (hint, text) in generated)
        {
            Assert.Equal(expected[hint].ReplaceLineEndings("\n"), text);
        }
    }

    private static string SourceGoldenDirectory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "Golden");
}
