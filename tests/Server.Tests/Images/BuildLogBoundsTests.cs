using System.Diagnostics;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>The build log's line splitting and bounded window (pure pieces, no engine).</summary>
public sealed class BuildLogBoundsTests
{
    [Fact]
    public void Splitter_SplitsAtNewlines_DropsCarriageReturns_AndFlushesTheLastLine()
    {
        var log = new ListBuildLog();
        var splitter = new BuildLogLineSplitter(log);

        splitter.Append("one\r\ntw");
        splitter.Append("o\n\nthree");
        splitter.Flush();

        Assert.Equal(["one", "two", "", "three"], log.Lines);
    }

    [Fact]
    public void Splitter_CutsALongLineIntoPieces_KeepingSurrogatePairsWhole()
    {
        var log = new ListBuildLog();
        var splitter = new BuildLogLineSplitter(log);
        var text = new string('x', BuildLogLineSplitter.MaxLineChars - 1) + "\U0001F600" + new string('y', 10);

        splitter.Append(text);
        splitter.Flush();

        Assert.Equal(2, log.Lines.Count);
        Assert.Equal(BuildLogLineSplitter.MaxLineChars - 1, log.Lines[0].Length);
        Assert.StartsWith("\U0001F600", log.Lines[1], StringComparison.Ordinal);
        Assert.Equal(text, string.Concat(log.Lines));
    }

    [Fact]
    public void Splitter_A40MiBLineWithoutNewline_TakesLinearTime()
    {
        var log = new CountingLog();
        var splitter = new BuildLogLineSplitter(log);
        var chunk = new string('z', 16 * 1024);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;

        for (var i = 0; i < 40 * 64; i++)
        {
            splitter.Append(chunk);
        }

        splitter.Flush();
        var spent = Process.GetCurrentProcess().TotalProcessorTime - cpu;

        Assert.Equal(40L * 1024 * 1024, log.Chars);
        Assert.Equal(40L * 1024 * 1024 / BuildLogLineSplitter.MaxLineChars, log.Lines);
        Assert.True(spent < TimeSpan.FromSeconds(5), $"splitting 40 MiB took {spent.TotalSeconds:0.0} CPU-s");
    }

    [Fact]
    public void Window_KeepsTheNewestLines_AndTellsALateReaderHowManyWereDropped()
    {
        var window = new BuildLogWindow(maxChars: 100);
        for (var i = 0; i < 50; i++)
        {
            window.Add($"line {i:00}"); // 7 characters each
        }

        var (lines, next) = window.Read(0);

        Assert.Equal(50, next);
        Assert.Equal(50, window.Count);
        Assert.True(window.RetainedChars <= 100);
        Assert.Contains("36 earlier line(s) of build output were dropped", lines[0], StringComparison.Ordinal);
        Assert.Equal(["line 36", "line 49"], [lines[1], lines[^1]]);

        var (resumed, after) = window.Read(45);
        Assert.Equal(["line 45", "line 46", "line 47", "line 48", "line 49"], resumed);
        Assert.Equal(50, after);
        Assert.Empty(window.Read(50).Lines);
    }

    [Fact]
    public void Window_Released_KeepsNothing_ButStillCountsAndMarks()
    {
        var window = new BuildLogWindow(maxChars: 1000);
        window.Add("a");
        window.Add("b");

        window.Release();
        window.Add("c");

        Assert.Equal(0, window.RetainedChars);
        var (lines, next) = window.Read(0);
        Assert.Equal(3, next);
        Assert.Contains("no longer kept", Assert.Single(lines), StringComparison.Ordinal);
    }

    [Fact]
    public void Job_MillionsOfLines_HoldAtMostItsWindow()
    {
        var job = new ImageBuildJob("im-test");
        var line = new string('l', 99);
        for (var i = 0; i < 200_000; i++)
        {
            job.Write(line);
        }

        job.Write(new string('w', 100_000)); // one long line arrives as pieces

        Assert.True(job.RetainedLogChars <= ImageBuildJob.MaxLogChars, $"{job.RetainedLogChars} characters kept");
        var (lines, next, _) = job.Read(0);
        Assert.Equal(200_000 + 7, next);
        Assert.Contains("were dropped", lines[0], StringComparison.Ordinal);
        Assert.All(lines, l => Assert.True(l.Length <= BuildLogLineSplitter.MaxLineChars));
    }

    private sealed class CountingLog : IImageBuildLog
    {
        public long Chars { get; private set; }

        public long Lines { get; private set; }

        public void Write(string line)
        {
            Chars += line.Length;
            Lines++;
        }
    }
}
