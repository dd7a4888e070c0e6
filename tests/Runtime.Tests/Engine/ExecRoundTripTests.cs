using System.Text;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>The client against the real engine: exec, output streams, stdin, exit codes, timeouts.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class ExecRoundTripTests(EngineFixture fixture)
{
    [Fact]
    public async Task Echo_round_trips_through_stdout_and_the_exit_code()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();

        await using var process = await sandbox.ExecAsync(["echo", "hello"]);
        var stdout = await process.Stdout.ReadToEndAsync();
        var code = await process.WaitAsync();

        Assert.Equal("hello\n", stdout);
        Assert.Equal(0, code);
    }

    [Fact]
    public async Task RunAsync_buffers_stdout_stderr_and_the_exit_code()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();

        var result = await sandbox.RunAsync(["sh", "-c", "echo out; echo err >&2; exit 3"]);

        Assert.Equal(new ExecResult(3, "out\n", "err\n"), result);
        Assert.Throws<ExecFailedException>(() => result.EnsureSuccess());
    }

    [Fact]
    public async Task Exec_options_set_workdir_and_environment()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        var secret = fixture.Client.Secrets.FromDictionary(new Dictionary<string, string> { ["FROM_SECRET"] = "s3cret" });

        var result = await sandbox.RunAsync(["sh", "-c", "pwd; echo $GREETING $FROM_SECRET"], new ExecOptions
        {
            Workdir = "/tmp",
            Env = new Dictionary<string, string> { ["GREETING"] = "hi" },
            Secrets = [secret],
        });

        Assert.Equal("/tmp\nhi s3cret\n", result.Stdout);
    }

    [Fact]
    public async Task Lines_stream_in_order()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        await using var process = await sandbox.ExecAsync(["sh", "-c", "i=1; while [ $i -le 500 ]; do echo line $i; i=$((i+1)); done"]);

        var lines = new List<string>();
        await foreach (var line in process.Stdout.ReadLinesAsync())
        {
            lines.Add(line);
        }

        Assert.Equal(Enumerable.Range(1, 500).Select(i => $"line {i}"), lines);
        Assert.Equal(0, await process.WaitAsync());
    }

    [Fact]
    public async Task Large_binary_output_arrives_byte_exact()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        await using var process = await sandbox.ExecAsync(["seq", "1", "300000"]);

        var bytes = await process.Stdout.ReadAllBytesAsync();

        var expected = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(1, 300000).Select(i => i + "\n")));
        Assert.Equal(expected.Length, bytes.Length);
        Assert.True(expected.AsSpan().SequenceEqual(bytes));
    }

    [Fact]
    public async Task Stdin_reaches_the_process_and_close_ends_it()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        await using var process = await sandbox.ExecAsync(["cat"]);

        await process.Stdin.WriteAsync("first line\n");
        await process.Stdin.WriteAsync(Encoding.UTF8.GetBytes("second line\n"));
        await process.Stdin.CloseAsync();

        Assert.Equal("first line\nsecond line\n", await process.Stdout.ReadToEndAsync());
        Assert.Equal(0, await process.WaitAsync());
    }

    [Fact]
    public async Task Poll_is_null_while_running_and_the_code_after_exit()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        await using var process = await sandbox.ExecAsync(["sh", "-c", "read x; exit 4"]);

        Assert.Null(await process.PollAsync());
        await process.Stdin.CloseAsync();

        Assert.Equal(4, await process.WaitAsync());
        Assert.Equal(4, await process.PollAsync());
    }

    [Fact]
    public async Task Output_is_kept_until_read_after_the_process_exits()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        await using var process = await sandbox.ExecAsync(["sh", "-c", "echo late reader; echo on stderr >&2"]);

        Assert.Equal(0, await process.WaitAsync());

        Assert.Equal("on stderr\n", await process.Stderr.ReadToEndAsync());
        Assert.Equal("late reader\n", await process.Stdout.ReadToEndAsync());
    }

    [Fact]
    public async Task An_exec_past_its_timeout_fails_with_ExecTimeoutException()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();

        await Assert.ThrowsAsync<ExecTimeoutException>(() =>
            sandbox.RunAsync(["sleep", "60"], new ExecOptions { Timeout = TimeSpan.FromSeconds(1) }));

        Assert.Equal("still usable\n", (await sandbox.RunAsync(["echo", "still usable"])).Stdout);
    }

    [Fact]
    public async Task Ignored_output_reads_as_empty()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();

        var result = await sandbox.RunAsync(["sh", "-c", "echo hidden; echo shown >&2"], new ExecOptions { Stdout = StdioMode.Ignore });

        Assert.Equal("", result.Stdout);
        Assert.Equal("shown\n", result.Stderr);
    }

    [Fact]
    public async Task A_cancelled_read_returns_and_leaves_process_and_sandbox_usable()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        await using var process = await sandbox.ExecAsync(["sh", "-c", "echo first; read x; echo second"]);
        using var cts = new CancellationTokenSource();

        var lines = process.Stdout.ReadLinesAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await lines.MoveNextAsync());
        Assert.Equal("first", lines.Current);
        var blocked = lines.MoveNextAsync().AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked);
        await lines.DisposeAsync();

        // The process goes on; its remaining output is still there for the next reader.
        await process.Stdin.WriteAsync("go\n");
        Assert.Equal("second\n", await process.Stdout.ReadToEndAsync());
        Assert.Equal(0, await process.WaitAsync());
        Assert.Equal("ok\n", (await sandbox.RunAsync(["echo", "ok"])).Stdout);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_process_running()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        await using var process = await sandbox.ExecAsync(["sh", "-c", "read x; exit 5"]);
        using var cts = new CancellationTokenSource();

        var waiting = process.WaitAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        Assert.Null(await process.PollAsync());
        await process.Stdin.CloseAsync();
        Assert.Equal(5, await process.WaitAsync());
    }
}
