using System.Text.Json.Serialization;

namespace TypedSandbox.Generators.Tests.EndToEnd;

/// <summary>
/// JSON results read through a System.Text.Json source-generated context (<c>[Sandbox(JsonContext = …)]</c>) against
/// the real engine. The context names properties in snake_case, which the web defaults (camelCase) never match, so a
/// filled result shows the context's metadata was used.
/// </summary>
[Collection(DslEngineGroup.Name)]
public sealed class JsonContextEndToEndTests(DslEngineFixture fixture)
{
    [Fact]
    public async Task Task_of_T_and_JSON_lines_deserialize_through_the_context()
    {
        await using var box = await SummaryBox.CreateAsync(fixture.Client);

        var summary = await box.SummaryAsync("""{"file_count": 3, "build_name": "nightly"}""");
        var lines = new List<BuildSummary>();
        await foreach (var line in box.SummariesAsync("""{"file_count": 1, "build_name": "a"}""", """{"file_count": 2, "build_name": "b"}"""))
        {
            lines.Add(line);
        }

        Assert.Equal(new BuildSummary(3, "nightly"), summary);
        Assert.Equal([new BuildSummary(1, "a"), new BuildSummary(2, "b")], lines);
    }

    [Fact]
    public async Task A_result_type_the_context_does_not_know_fails_before_the_command_runs()
    {
        await using var box = await SummaryBox.CreateAsync(fixture.Client);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => box.UnknownAsync("/tmp/unknown-ran"));

        Assert.Equal("SummaryJson has no JSON metadata for UnknownShape; add [JsonSerializable(typeof(UnknownShape))] to it.", error.Message);
        Assert.Equal(1, await box.ExistsAsync("/tmp/unknown-ran"));
    }
}

public sealed record BuildSummary(int FileCount, string BuildName);

public sealed record UnknownShape(int Value);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BuildSummary))]
internal sealed partial class SummaryJson : JsonSerializerContext;

[Sandbox(App = "dsl-e2e", Timeout = "5m", JsonContext = typeof(SummaryJson))]
[SandboxImage("busybox:latest")]
internal partial class SummaryBox
{
    [Command("printf", "%s", "{json}")]
    public partial Task<BuildSummary> SummaryAsync(string json);

    [Command("printf", "%s\\n%s\\n", "{first}", "{second}")]
    public partial IAsyncEnumerable<BuildSummary> SummariesAsync(string first, string second);

    [Command("sh", "-c", "touch {marker}; echo '{{\"value\": 1}}'")]
    public partial Task<UnknownShape> UnknownAsync(string marker);

    [Command("test", "-e", "{path}")]
    public partial Task<int> ExistsAsync(string path);
}
