using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Tests.Validation;

public class TagsAndKeysTests
{
    [Theory]
    [InlineData("team")]
    [InlineData("app.kubernetes.io/name")]
    [InlineData("a_b-c")]
    public void CheckKey_accepts_valid_keys(string key) => Assert.Null(Tags.CheckKey(key));

    [Theory]
    [InlineData("has space", "Tag key 'has space' contains ' '; use letters, digits, '-', '_', '.' and '/' (at most 63 characters)")]
    [InlineData("", "Tag key is empty; use letters, digits, '-', '_', '.' and '/' (at most 63 characters)")]
    public void CheckKey_rejects_invalid_keys(string key, string expected) => Assert.Equal(expected, Tags.CheckKey(key));

    [Fact]
    public void CheckKey_rejects_keys_longer_than_63() =>
        Assert.Contains("is 64 characters long", Tags.CheckKey(new string('k', 64)), StringComparison.Ordinal);

    [Fact]
    public void CheckValue_accepts_free_text_up_to_255_characters()
    {
        Assert.Null(Tags.CheckValue("k", "any value: with spaces, é and ✓"));
        Assert.Null(Tags.CheckValue("k", string.Empty));
        Assert.Null(Tags.CheckValue("k", new string('v', 255)));
    }

    [Fact]
    public void CheckValue_rejects_control_characters_and_long_values()
    {
        Assert.Equal("Tag 'k' has a value containing a line break; use at most 255 characters and no control characters", Tags.CheckValue("k", "a\nb"));
        Assert.Contains("of 256 characters", Tags.CheckValue("k", new string('v', 256)), StringComparison.Ordinal);
        Assert.Contains("has no value", Tags.CheckValue("k", null), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("API_KEY")]
    [InlineData("_private")]
    [InlineData("x1")]
    public void EnvironmentKeys_accept_shell_style_names(string key) => Assert.Null(EnvironmentKeys.Check(key));

    [Theory]
    [InlineData("1ABC", "Environment variable key '1ABC' starts with a digit; use a letter or '_' followed by letters, digits or '_'")]
    [InlineData("MY-KEY", "Environment variable key 'MY-KEY' contains '-'; use a letter or '_' followed by letters, digits or '_'")]
    [InlineData("", "Environment variable key is empty; use a letter or '_' followed by letters, digits or '_'")]
    public void EnvironmentKeys_reject_other_names(string key, string expected) => Assert.Equal(expected, EnvironmentKeys.Check(key));

    [Fact]
    public void CheckEntry_splits_at_the_first_equals_sign()
    {
        Assert.Null(EnvironmentKeys.CheckEntry("URL=a=b", out var key, out var value));
        Assert.Equal("URL", key);
        Assert.Equal("a=b", value);
        Assert.Equal("Environment entry 'URL' has no '='; write it as KEY=VALUE", EnvironmentKeys.CheckEntry("URL", out _, out _));
        Assert.Contains("starts with a digit", EnvironmentKeys.CheckEntry("1=x", out _, out _), StringComparison.Ordinal);
    }
}
