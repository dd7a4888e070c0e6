using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Tests.Validation;

public class CommandTemplateTests
{
    [Fact]
    public void Render_substitutes_each_placeholder_inside_its_own_argument()
    {
        var template = CommandTemplate.Parse(["pytest", "-q", "{path}", "--junit={report}", "{path}"]);
        var rendered = template.Render(name => name == "path" ? "tests; rm -rf /" : "out dir/r.xml");
        Assert.Equal(["pytest", "-q", "tests; rm -rf /", "--junit=out dir/r.xml", "tests; rm -rf /"], rendered);
        Assert.Equal(["path", "report"], template.Placeholders);
    }

    [Fact]
    public void Render_keeps_escaped_braces_literal()
    {
        var template = CommandTemplate.Parse(["python", "-c", "print({{'a': {n}}})"]);
        Assert.Equal(["python", "-c", "print({'a': 3})"], template.Render(_ => "3"));
    }

    [Fact]
    public void Render_keeps_an_empty_value_as_an_argument() =>
        Assert.Equal(["echo", ""], CommandTemplate.Parse(["echo", "{x}"]).Render(_ => string.Empty));

    [Fact]
    public void Render_does_not_expand_placeholders_inside_values() =>
        Assert.Equal(["echo", "{other}"], CommandTemplate.Parse(["echo", "{x}"]).Render(name => name == "x" ? "{other}" : "!"));

    [Theory]
    [InlineData("{path", 1, "has an unclosed '{'")]
    [InlineData("path}", 1, "has an unmatched '}'")]
    [InlineData("{}", 1, "has placeholder '{}'")]
    [InlineData("{1x}", 1, "has placeholder '{1x}'")]
    [InlineData("{a b}", 1, "has placeholder '{a b}'")]
    public void TryParse_reports_the_faulty_argument(string argument, int index, string reason)
    {
        Assert.False(CommandTemplate.TryParse(["run", argument], out _, out var error, out var errorIndex));
        Assert.Equal(index, errorIndex);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_requires_a_program()
    {
        Assert.False(CommandTemplate.TryParse([], out _, out var error, out var index));
        Assert.Equal(-1, index);
        Assert.StartsWith("Command has no program", error, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CommandTemplate.Parse([]));
    }

    [Fact]
    public void PlaceholdersOf_lists_one_argument_placeholders() =>
        Assert.Equal(["a", "b"], CommandTemplate.PlaceholdersOf("{a}-{b}-{{c}}"));
}
