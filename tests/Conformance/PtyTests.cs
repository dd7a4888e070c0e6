using System.Text;
using System.Text.Json;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// PTY execs and PTY sandboxes (Modal's <c>pty: true</c>), through Modal's JS SDK and through the C# client: the process
/// sees a terminal (<c>test -t</c>), the asked window (<c>stty size</c>) and TERM, all its output arrives on stdout, 0x03 on
/// stdin interrupts it through the terminal's line discipline and closing stdin is end of input. Run under crun
/// (<see cref="PtyTests"/>) and gVisor (<see cref="RunscPtyTests"/>), which differ only in the fixture.
/// </summary>
public abstract class PtyConformance(EngineFixture fixture)
{
    [Fact]
    public async Task Through_the_JS_SDK_a_pty_exec_runs_on_a_terminal_of_the_SDKs_size_with_all_output_on_stdout()
    {
        var result = await fixture.RunAsync("pty.mjs", "exec");

        Assert.Equal("tty\r\n", Stdout(result, "withPty"));
        Assert.Equal("notty\n", Stdout(result, "withoutPty"));
        Assert.Equal("24 80\r\n", Stdout(result, "size"));
        Assert.Equal("xterm-256color\r\n", Stdout(result, "term"));
        Assert.Equal("to-stderr\r\n", Stdout(result, "stderr"));
        Assert.Equal("", result.GetProperty("stderr").GetProperty("stderr").GetString());
    }

    [Fact]
    public async Task Through_the_CSharp_client_an_exec_gets_the_terminal_it_asks_for()
    {
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = Fixture.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("pty", createIfMissing: true);
        await using var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"));
        var terminal = new ExecOptions { Pty = new PtyOptions { Rows = 40, Columns = 132, Term = "vt100", ColorTerm = null } };

        var probe = await sandbox.RunAsync(["sh", "-c", "test -t 1 && echo tty; stty size; echo \"$TERM/${COLORTERM:-none}\"; echo err >&2"], terminal);
        var plain = await sandbox.RunAsync(["sh", "-c", "test -t 1 && echo tty || echo notty"]);

        Assert.Equal("tty\r\n40 132\r\nvt100/none\r\nerr\r\n", probe.Stdout);
        Assert.Equal("", probe.Stderr);
        Assert.Equal("notty\n", plain.Stdout);
    }

    [Fact]
    public async Task A_terminal_of_zero_rows_is_refused_before_anything_is_sent()
    {
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = Fixture.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("pty", createIfMissing: true);
        await using var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"));

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => sandbox.ExecAsync(["true"], new ExecOptions { Pty = new PtyOptions { Rows = 0 } }));

        Assert.Equal("The terminal's Rows is 0; use 1 to 65535.", error.Message);
    }

    [Fact]
    public async Task Through_the_CSharp_client_Ctrl_C_interrupts_a_pty_exec()
    {
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = Fixture.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("pty", createIfMissing: true);
        await using var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"));

        await using var process = await sandbox.ExecAsync(["sh", "-c", TrapInterrupt], new ExecOptions { Pty = PtyOptions.Default });
        await ReadUntilAsync(process.Stdout, "ready");
        await process.Stdin.WriteAsync("\x03");
        var rest = await process.Stdout.ReadToEndAsync(Bounded());

        Assert.Contains("interrupted", rest, StringComparison.Ordinal);
        Assert.Equal(5, await process.WaitAsync());
    }

    [Fact]
    public async Task Through_the_JS_SDK_Ctrl_C_interrupts_a_pty_exec()
    {
        var result = await fixture.RunAsync("pty.mjs", "interrupt");

        var trapped = result.GetProperty("trapped");
        Assert.Contains("interrupted", trapped.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(5, trapped.GetProperty("code").GetInt32());
        // sleep ends by SIGINT's default action: the SDK reports 128 + 2.
        Assert.Equal(130, result.GetProperty("sleeper").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Through_the_JS_SDK_a_pty_sandbox_runs_its_entrypoint_on_a_terminal()
    {
        var result = await Fixture.RunAsync("pty.mjs", "sandbox");

        var stdout = result.GetProperty("stdout").GetString();
        Assert.StartsWith("tty\r\n24 80\r\nTERM=xterm-256color\r\nready\r\n", stdout, StringComparison.Ordinal);
        Assert.Contains("interrupted\r\n", stdout, StringComparison.Ordinal);
        Assert.Equal("", result.GetProperty("stderr").GetString());
        Assert.Equal(5, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Through_the_CSharp_client_a_pty_sandbox_runs_its_entrypoint_on_a_terminal()
    {
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = Fixture.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("pty", createIfMissing: true);
        await using var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"), new SandboxCreateOptions
        {
            Command = ["sh", "-c", "test -t 0 && echo tty; stty size; " + TrapInterrupt],
            Pty = new PtyOptions { Rows = 10, Columns = 50 },
        });

        var start = await ReadUntilAsync(sandbox.Stdout, "ready");
        await sandbox.Stdin.WriteAsync("\x03");
        var rest = await sandbox.Stdout.ReadToEndAsync(Bounded());

        Assert.Equal("tty\n10 50\nready\n", start);
        Assert.Contains("interrupted", rest, StringComparison.Ordinal);
        Assert.Equal(5, await sandbox.WaitAsync());
        Assert.Equal("", await sandbox.Stderr.ReadToEndAsync());
    }

    private protected EngineFixture Fixture => fixture;

    /// <summary>A bound on a read that a lost Ctrl-C would leave waiting, so the test fails instead of hanging the run.</summary>
    private static CancellationToken Bounded() => new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    private protected const string TrapInterrupt = "trap 'echo interrupted; exit 5' INT; echo ready; while true; do sleep 1; done";

    private protected static string? Stdout(JsonElement result, string name) => result.GetProperty(name).GetProperty("stdout").GetString();

    /// <summary>Reads lines (terminators normalised to \n) until one contains <paramref name="marker"/>.</summary>
    private protected static async Task<string> ReadUntilAsync(SandboxOutputStream stream, string marker)
    {
        var text = new StringBuilder();
        while (await stream.ReadLineAsync() is { } line)
        {
            text.Append(line).Append('\n');
            if (line.Contains(marker, StringComparison.Ordinal))
            {
                return text.ToString();
            }
        }

        throw new InvalidOperationException($"The output ended before '{marker}': {text}");
    }
}

/// <summary>
/// PTY execs and sandboxes under crun, and end of input: closing stdin types the terminal's EOF character (Ctrl-D).
/// Under runsc the eof scenario stays out: gVisor release-20221219.0 (Debian's runsc) consumes the EOF character and
/// marks the line readable, but its read of an empty readable line returns EWOULDBLOCK instead of 0, so the reader
/// blocks for ever (google/gvisor#9333, fixed by commit e8c399a0 in release-20230911.0). Nothing outside gVisor can
/// make a terminal's read return 0: hanging the terminal up instead would end the reader with EIO, not end of input.
/// </summary>
[Collection(EngineTests.Name)]
public sealed class PtyTests(EngineFixture fixture) : PtyConformance(fixture)
{
    [Fact]
    public async Task Through_the_JS_SDK_closing_stdin_of_a_pty_exec_is_end_of_input()
    {
        var result = await Fixture.RunAsync("pty.mjs", "eof");

        // The terminal echoes the typed line, cat prints it back, and closing stdin (Ctrl-D) ends cat normally.
        var cat = result.GetProperty("cat");
        Assert.Equal("typed line\r\ntyped line\r\n", cat.GetProperty("stdout").GetString());
        Assert.Equal(0, cat.GetProperty("code").GetInt32());
    }
}

/// <summary>PTY execs under gVisor (runsc).</summary>
[Collection(RunscEngineTests.Name)]
public sealed class RunscPtyTests(RunscEngineFixture fixture) : PtyConformance(fixture);
