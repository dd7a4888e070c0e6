using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Tests.Validation;

public class ObjectNamesTests
{
    [Theory]
    [InlineData("my-app")]
    [InlineData("a")]
    [InlineData("Runner_2.v1")]
    [InlineData("123")]
    public void Check_accepts_letters_digits_dash_underscore_and_dot(string name) =>
        Assert.Null(ObjectNames.Check(name, "App name"));

    [Fact]
    public void Check_names_the_offending_character_and_what_is_allowed() =>
        Assert.Equal(
            "Sandbox name 'my name' contains ' '; use letters, digits, '-', '_' and '.' (at most 63 characters)",
            ObjectNames.Check("my name", "Sandbox name"));

    [Theory]
    [InlineData("a/b", "contains '/'")]
    [InlineData("tab\there", "contains a tab")]
    [InlineData("café", "contains 'é'")]
    [InlineData("", "is empty")]
    public void Check_rejects_other_characters(string name, string reason) =>
        Assert.Contains(reason, ObjectNames.Check(name, "App name"), StringComparison.Ordinal);

    [Fact]
    public void Check_allows_63_characters_and_rejects_64()
    {
        Assert.Null(ObjectNames.Check(new string('a', 63), "App name"));
        Assert.Contains("is 64 characters long", ObjectNames.Check(new string('a', 64), "App name"), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_rejects_null() => Assert.NotNull(ObjectNames.Check(null, "Volume name"));
}
