using TypedSandbox.Images;

namespace TypedSandbox.Runtime.Tests.Images;

public sealed class ImageDefinitionTests
{
    private static Image Registry(string reference) => new(null, null, reference, null, []);

    [Fact]
    public void A_registry_image_is_a_single_FROM()
    {
        Assert.Equal(["FROM python:3.13-slim"], Registry("python:3.13-slim").DockerfileCommands);
    }

    [Fact]
    public void Build_steps_render_like_Modals_image_methods()
    {
        var image = Registry("python:3.13-slim")
            .AptInstall("git", "curl")
            .PipInstall("requests>=2.31", "numpy")
            .Env(new Dictionary<string, string> { ["B"] = "two words", ["A"] = "1" })
            .Workdir("/app")
            .RunCommands("echo ready > /ready");

        Assert.Equal(
            [
                "FROM python:3.13-slim",
                "RUN apt-get update",
                "RUN apt-get install -y git curl",
                "RUN python -m pip install 'requests>=2.31' numpy",
                "ENV A=1",
                "ENV B='two words'",
                "WORKDIR /app",
                "RUN echo ready > /ready",
            ],
            image.DockerfileCommands);
    }

    [Fact]
    public void Steps_return_new_images_and_leave_the_original_alone()
    {
        var baseImage = Registry("debian:bookworm-slim");

        var withStep = baseImage.RunCommands("true");

        Assert.Equal(["FROM debian:bookworm-slim"], baseImage.DockerfileCommands);
        Assert.Equal(2, withStep.DockerfileCommands!.Count);
    }

    [Fact]
    public void Steps_on_an_existing_image_build_a_layer_on_top_of_it()
    {
        var existing = new Image(null, "im-123", null, null, []);

        var layered = existing.RunCommands("touch /x");

        Assert.Null(existing.DockerfileCommands);
        Assert.Equal("im-123", layered.BaseImageId);
        Assert.Null(layered.ImageId);
        Assert.Equal(["FROM base", "RUN touch /x"], layered.DockerfileCommands);
    }

    [Fact]
    public void Invalid_steps_are_rejected_with_what_is_allowed()
    {
        var image = Registry("alpine");

        Assert.Throws<InvalidArgumentException>(() => image.AptInstall());
        Assert.Throws<InvalidArgumentException>(() => image.PipInstall(" "));
        Assert.Throws<InvalidArgumentException>(() => image.RunCommands(""));
        Assert.Throws<InvalidArgumentException>(() => image.AddDockerfileCommands("FROM other"));
        var badWorkdir = Assert.Throws<InvalidArgumentException>(() => image.Workdir("relative/dir"));
        Assert.Contains("relative/dir", badWorkdir.Message, StringComparison.Ordinal);
        var badEnv = Assert.Throws<InvalidArgumentException>(() => image.Env("1BAD", "x"));
        Assert.Contains("1BAD", badEnv.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a/b-c_d.e:f=g,h@i%j+k", "a/b-c_d.e:f=g,h@i%j+k")]
    [InlineData("", "''")]
    [InlineData("two words", "'two words'")]
    [InlineData("it's", "'it'\"'\"'s'")]
    [InlineData("x>=1", "'x>=1'")]
    [InlineData("$HOME", "'$HOME'")]
    public void Shell_quoting_matches_shlex_quote(string word, string expected)
    {
        Assert.Equal(expected, ShellQuoting.Quote(word));
    }
}
