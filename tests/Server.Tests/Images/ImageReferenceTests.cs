using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Tests.Images;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("python:3.13-slim", "docker.io", "library/python", "3.13-slim", null, "docker.io/library/python:3.13-slim")]
    [InlineData("debian", "docker.io", "library/debian", "latest", null, "docker.io/library/debian:latest")]
    [InlineData("bitnami/redis:7", "docker.io", "bitnami/redis", "7", null, "docker.io/bitnami/redis:7")]
    [InlineData("docker.io/library/alpine:3", "docker.io", "library/alpine", "3", null, "docker.io/library/alpine:3")]
    [InlineData("index.docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", null, "docker.io/library/ubuntu:latest")]
    [InlineData("127.0.0.1:5000/team/app:v1", "127.0.0.1:5000", "team/app", "v1", null, "127.0.0.1:5000/team/app:v1")]
    [InlineData("localhost/app", "localhost", "app", "latest", null, "localhost/app:latest")]
    [InlineData("ghcr.io/org/tool", "ghcr.io", "org/tool", "latest", null, "ghcr.io/org/tool:latest")]
    [InlineData("[::1]:5000/a/b:c", "[::1]:5000", "a/b", "c", null, "[::1]:5000/a/b:c")]
    public void Parse_NormalizesLikeDocker(string text, string registry, string repository, string tag, string? digest, string canonical)
    {
        var reference = ImageReference.Parse(text);

        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest);
        Assert.Equal(canonical, reference.ToString());
    }

    [Fact]
    public void Parse_Digest_WithAndWithoutTag()
    {
        var digest = "sha256:" + new string('a', 64);

        var pinned = ImageReference.Parse("alpine@" + digest);
        Assert.Equal(("library/alpine", null, digest), (pinned.Repository, pinned.Tag, pinned.Digest));
        Assert.Equal(digest, pinned.ManifestReference);

        var both = ImageReference.Parse("127.0.0.1:5000/x:1@" + digest);
        Assert.Equal(("1", digest), (both.Tag, both.Digest));
        Assert.Equal(digest, both.ManifestReference);
    }

    [Theory]
    [InlineData("127.0.0.1:5000/x", true)]
    [InlineData("127.8.9.10:5000/x", true)]
    [InlineData("localhost:5000/x", true)]
    [InlineData("[::1]:5000/x", true)]
    [InlineData("192.168.1.2:5000/x", false)]
    [InlineData("ghcr.io/x", false)]
    [InlineData("python", false)]
    public void IsLoopbackRegistry(string text, bool expected) =>
        Assert.Equal(expected, ImageReference.Parse(text).IsLoopbackRegistry);

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Python:3", "lowercase")]
    [InlineData("python:", "tag")]
    [InlineData("python:-bad", "tag")]
    [InlineData("python@sha256:abc", "digest")]
    [InlineData("a//b", "repository")]
    [InlineData("bad host:5000/x", "registry")]
    public void Parse_RefusesBadSyntax_WithAReason(string text, string reasonWord)
    {
        var error = Assert.Throws<InvalidImageReferenceException>(() => ImageReference.Parse(text));

        Assert.Contains(reasonWord, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(text, error.Reference);
    }
}

public sealed class RegistryMirrorTests
{
    [Theory]
    [InlineData("https://mirror.example", "https://mirror.example/")]
    [InlineData("https://mirror.example/v2/", "https://mirror.example/")]
    [InlineData("https://mirror.example/prefix", "https://mirror.example/prefix/")]
    [InlineData("http://127.0.0.1:5000", "http://127.0.0.1:5000/")]
    [InlineData("http://localhost:5000/", "http://localhost:5000/")]
    [InlineData("http://[::1]:5000", "http://[::1]:5000/")]
    public void Parse_AcceptsHttpsAnywhere_AndHttpOnLoopback(string url, string baseUri) =>
        Assert.Equal(baseUri, RegistryMirror.Parse(url).BaseUri.ToString());

    [Theory]
    [InlineData("http://192.0.2.10:5000", "plain HTTP on a non-loopback host")]
    [InlineData("http://mirror.example", "plain HTTP on a non-loopback host")]
    [InlineData("ftp://mirror.example", "not an absolute http")]
    [InlineData("mirror.example", "not an absolute http")]
    [InlineData("https://user:pw@mirror.example", "user info")]
    public void Parse_RefusesUnsafeOrMalformed(string url, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => RegistryMirror.Parse(url));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseAll_ReadsTheRepeatableSwitch_ThenTheEnvironmentVariable()
    {
        var mirrors = RegistryMirror.ParseAll(
            ["--port", "1", "--registry-mirror", "https://a.example", "--registry-mirror=http://127.0.0.1:5000"],
            " https://b.example , https://a.example ,");

        Assert.Equal(["https://a.example/", "http://127.0.0.1:5000/", "https://b.example/"], mirrors.Select(m => m.BaseUri.ToString()));
        Assert.Throws<ArgumentException>(() => RegistryMirror.ParseAll(["--registry-mirror"], null));
        Assert.Throws<ArgumentException>(() => RegistryMirror.ParseAll([], "http://10.0.0.1:5000"));
    }
}

public sealed class RegistryChallengeTests
{
    [Fact]
    public void ParseChallenge_ReadsQuotedParametersWithCommas()
    {
        var parameters = RegistryClient.ParseChallenge(
            "realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/python:pull,push\"");

        Assert.Equal("https://auth.docker.io/token", parameters["realm"]);
        Assert.Equal("registry.docker.io", parameters["service"]);
        Assert.Equal("repository:library/python:pull,push", parameters["scope"]);
    }
}
