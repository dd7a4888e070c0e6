using System.Text.Json;
using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>Tags (set, get, filter) and listing (newest first, paged) through Modal's JS SDK.</summary>
[Collection(FeatureEngineTests.Name)]
public sealed class TagsAndListingTests(FeatureEngineFixture fixture)
{
    [Theory]
    [InlineData("1")]
    [InlineData("0")]
    public async Task Tags_are_set_read_and_filter_listings_by_subset(string sandboxV2)
    {
        var result = await fixture.RunAsync("tags.mjs", "tags", new Dictionary<string, string> { ["TEST_APP"] = "tags-v" + sandboxV2, ["MODAL_SANDBOX_V2"] = sandboxV2 });

        var ids = Strings(result, "ids");
        var (one, two, three) = (ids[0], ids[1], ids[2]);
        Assert.All(ids, id => SandboxIdForm.Assert(id, sandboxV2));
        Assert.Equal(Map(("team", "blue"), ("env", "dev")), Tags(result, "tagsOfThree"));
        Assert.Equal(Map(("team", "red"), ("env", "dev")), Tags(result, "tagsOfOne"));
        Assert.Equal(Map(("team", "red"), ("env", "prod"), ("tier", "gold")), Tags(result, "tagsOfTwo"));
        Assert.Equal([three, two, one], Strings(result, "all"));
        Assert.Equal([two, one], Strings(result, "red"));
        Assert.Equal([two], Strings(result, "redProd"));
        Assert.Equal([three, one], Strings(result, "dev"));
        Assert.Empty(Strings(result, "none"));
        Assert.Equal([two], Strings(result, "afterTerminate"));
        Assert.Contains("Tag key 'bad key' contains ' '", Error(result, "badSet"), StringComparison.Ordinal);
        Assert.Contains("INVALID_ARGUMENT: Tag key 'kkkk", Error(result, "badCreate"), StringComparison.Ordinal);
        Error(result.GetProperty("badList"), "badList", out var badListClass);
        Assert.Equal("InvalidError", badListClass);
    }

    [Fact]
    public async Task Listing_pages_through_more_sandboxes_than_one_page_newest_first()
    {
        var count = FeatureEngineFixture.ListPageSize * 2 + 1;
        var result = await fixture.RunAsync(
            "tags.mjs", "paging", new Dictionary<string, string> { ["TEST_APP"] = "paging", ["COUNT"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        var created = Strings(result, "created");
        Assert.Equal(count, created.Count);
        Assert.Equal(created.AsEnumerable().Reverse().ToList(), Strings(result, "listed"));
        Assert.Equal([created[3]], Strings(result, "odd"));
    }

    private static List<string> Strings(JsonElement result, string name) =>
        [.. result.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];

    private static Dictionary<string, string> Tags(JsonElement result, string name) =>
        result.GetProperty(name).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    private static Dictionary<string, string> Map(params (string Key, string Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);
}
