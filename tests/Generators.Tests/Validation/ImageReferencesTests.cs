using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Tests.Validation;

public class ImageReferencesTests
{
    [Theory]
    [InlineData("python:3.13-slim")]
    [InlineData("debian")]
    [InlineData("library/debian:bookworm-slim")]
    [InlineData("ghcr.io/org/tool:1.2")]
    [InlineData("localhost:5000/my_image")]
    [InlineData("127.0.0.1:5000/a/b/c:latest")]
    [InlineData("registry.example.com/team/img__x.y-z:V1_2")]
    [InlineData("alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("alpine:3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Check_accepts_references_in_the_distribution_grammar(string reference) =>
        Assert.Null(ImageReferences.Check(reference));

    [Theory]
    [InlineData("Python:3", "has repository part 'Python'")]
    [InlineData("python:", "has tag ''")]
    [InlineData("python:3 slim", "has tag '3 slim'")]
    [InlineData("my image", "has repository part 'my image'")]
    [InlineData("org/-bad", "has repository part '-bad'")]
    [InlineData("a..b", "has repository part 'a..b'")]
    [InlineData("", "is empty")]
    [InlineData(":latest", "has no repository")]
    [InlineData("alpine@sha256:123", "shorter than 32 characters")]
    [InlineData("alpine@nodigest", "a digest is algorithm:hex")]
    [InlineData("bad_host.com:port/x", "has registry 'bad_host.com:port'")]
    public void Check_explains_malformed_references(string reference, string reason)
    {
        var error = ImageReferences.Check(reference);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.EndsWith("use [registry/]repository[:tag][@digest] such as 'python:3.13-slim'", error, StringComparison.Ordinal);
    }
}
