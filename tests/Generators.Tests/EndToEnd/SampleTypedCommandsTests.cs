using TypedSandbox.Samples;
using SampleToolbox = TypedSandbox.Samples.Toolbox;

namespace TypedSandbox.Generators.Tests.EndToEnd;

/// <summary>samples/TypedCommands, step by step as its Program.cs runs it, against the test engine (so scripts/test.sh runs the sample).</summary>
[Collection(DslEngineGroup.Name)]
public sealed class SampleTypedCommandsTests(DslEngineFixture fixture)
{
    [Fact]
    public async Task The_TypedCommands_sample_behaves_as_its_program_documents()
    {
        await using var box = await SampleToolbox.CreateAsync(fixture.Client);
        string[] files = ["notes.txt", "with space.txt"];

        await box.TouchAsync(files);
        var listed = new List<string>();
        await foreach (var name in box.ListAsync(newestFirst: true))
        {
            listed.Add(name);
        }

        var entries = new List<Samples.FileEntry>();
        await foreach (var entry in box.StatAsync(files))
        {
            entries.Add(entry);
        }

        Assert.Equal(files.Order(StringComparer.Ordinal), listed.Where(files.Contains).Order(StringComparer.Ordinal));
        Assert.Equal("4", (await box.CountWordsAsync("typed arguments, typed results")).Trim());
        Assert.Equal("Hello, typed sandbox\n", await box.GreetAsync("Hello"));
        Assert.Equal([new Samples.FileEntry("notes.txt", 0), new Samples.FileEntry("with space.txt", 0)], entries);
        Assert.Equal(0, await box.ExistsAsync("/tmp/with space.txt"));
        Assert.Equal(1, await box.ExistsAsync("/tmp/missing"));
        var slow = await box.TooSlowAsync();
        Assert.Equal(new ExecResult(137, "working\n", string.Empty), slow);
        Assert.Equal("Bye, typed sandbox\n", await SampleToolbox.CreateAsync(fixture.Client).GreetAsync("Bye"));
    }
}
