namespace TypedSandbox.Runtime.Tests.Images;

/// <summary>Build log chunks become whole lines for the logger, however the server cut them.</summary>
public sealed class BuildLogLinesTests
{
    [Fact]
    public void Chunks_are_joined_and_cut_at_newlines_without_carriage_returns_or_empty_lines()
    {
        var lines = new List<string>();
        var splitter = new BuildLogLines(lines.Add);

        splitter.Append("Step 1/2: RUN echo hi\nh");
        splitter.Append("i\r\n\n");
        splitter.Append("Step 2/2: ENV A=1\nno newline at the end");
        splitter.Flush();
        splitter.Flush();

        Assert.Equal(["Step 1/2: RUN echo hi", "hi", "Step 2/2: ENV A=1", "no newline at the end"], lines);
    }
}
