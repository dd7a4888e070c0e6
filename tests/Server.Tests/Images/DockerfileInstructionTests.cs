using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Tests.Images;

public sealed class DockerfileInstructionTests
{
    private static readonly ImageConfig Base = new(["PATH=/bin", "HOME=/root"], null, null, null, null);

    private static DockerfileInstruction Single(string command) => DockerfileInstruction.ParseAll(["FROM scratch", command])[1];

    [Fact]
    public void Env_PairsWithQuotesEscapesAndExpansion()
    {
        var pairs = Single("ENV A=1 B=\"two words\" C='$HOME' D=$HOME/x E=${PATH}:/sbin F=a\\ b").EnvPairs(Base);

        Assert.Equal(
            [new("A", "1"), new("B", "two words"), new("C", "$HOME"), new("D", "/root/x"), new("E", "/bin:/sbin"), new("F", "a b")],
            pairs);
    }

    [Fact]
    public void Env_LegacyForm_TakesTheRestAsValue()
    {
        Assert.Equal([new("GREETING", "hello big world")], Single("ENV GREETING hello big world").EnvPairs(Base));
    }

    [Fact]
    public void Commands_ExecAndShellForms()
    {
        Assert.Equal(["python3", "-c", "print(1)"], Single("CMD [\"python3\", \"-c\", \"print(1)\"]").CommandArgv());
        Assert.Equal(["/bin/sh", "-c", "echo $HOME"], Single("RUN echo $HOME").CommandArgv());
        Assert.Equal(["/bin/sh", "-c", "[ -f x ] && echo y"], Single("RUN [ -f x ] && echo y").CommandArgv());
    }

    [Fact]
    public void Fragments_JoinContinuations_AndSkipComments()
    {
        var instructions = DockerfileInstruction.ParseAll(["FROM scratch\n# a comment\n\nRUN apt-get update && \\\n    apt-get install -y curl", "run echo hi"]);

        Assert.Equal(["FROM scratch", "RUN apt-get update &&      apt-get install -y curl", "RUN echo hi"], instructions.Select(i => i.Text));
    }

    [Theory]
    [InlineData("COPY . /app", "COPY is not supported")]
    [InlineData("ADD https://x /y", "ADD is not supported")]
    [InlineData("FROGS 1", "not a Dockerfile instruction")]
    [InlineData("FROM scratch", "second FROM")]
    [InlineData("RUN", "needs arguments")]
    public void Unsupported_IsRefusedClearly(string command, string message)
    {
        var error = Assert.ThrowsAny<InvalidImageDefinitionException>(() => DockerfileInstruction.ParseAll(["FROM scratch", command]));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Definition_MustStartWithFrom()
    {
        Assert.Throws<InvalidImageDefinitionException>(() => DockerfileInstruction.ParseAll([]));
        Assert.Throws<InvalidImageDefinitionException>(() => DockerfileInstruction.ParseAll(["RUN true"]));
    }

    [Fact]
    public void ImageId_IsStable_AndDependsOnEveryCommand()
    {
        string[] definition = ["FROM python:3.13-slim", "RUN pip install numpy"];

        var id = ImageStore.ComputeImageId(definition);

        Assert.Matches("^im-[0-9a-f]{24}$", id);
        Assert.Equal(id, ImageStore.ComputeImageId(["FROM python:3.13-slim ", "run pip install numpy"]));
        Assert.NotEqual(id, ImageStore.ComputeImageId(["FROM python:3.13-slim", "RUN pip install pandas"]));
        Assert.NotEqual(id, ImageStore.ComputeImageId(["FROM python:3.13-slim"]));
    }
}
