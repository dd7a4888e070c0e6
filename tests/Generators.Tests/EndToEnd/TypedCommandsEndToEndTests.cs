namespace TypedSandbox.Generators.Tests.EndToEnd;

/// <summary>Typed arguments and every result form of a [Command] method, run against the real engine (busybox image).</summary>
[Collection(DslEngineGroup.Name)]
public sealed class TypedCommandsEndToEndTests(DslEngineFixture fixture)
{
    [Fact]
    public async Task Typed_arguments_are_formatted_invariantly_collections_expand_and_null_arguments_are_left_out()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);
        var when = new DateTimeOffset(2026, 12, 5, 23, 30, 0, 250, TimeSpan.FromHours(1));
        var id = Guid.Parse("0b7c6a0e-5f1d-4c55-9f5e-2b9f0d7c1a11");

        var printed = await box.ArgsAsync(["a b.py", "c.py"], 1.5, when, DayOfWeek.Friday, id, TimeSpan.FromSeconds(90), true, maxFail: null);
        var withMax = await box.ArgsAsync([], 2, when, DayOfWeek.Monday, id, TimeSpan.Zero, false, maxFail: 3);

        Assert.Equal("[a b.py][c.py][r=1.5][2026-12-05T23:30:00.2500000+01:00][Friday][0b7c6a0e-5f1d-4c55-9f5e-2b9f0d7c1a11][00:01:30][true]", printed);
        Assert.Equal("[r=2][2026-12-05T23:30:00.2500000+01:00][Monday][0b7c6a0e-5f1d-4c55-9f5e-2b9f0d7c1a11][00:00:00][false][--maxfail=3]", withMax);
    }

    [Fact]
    public async Task Options_follow_the_arguments_in_parameter_order()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);

        Assert.Equal("[run]", await box.OptionsAsync());
        Assert.Equal("[run][-k][not slow][-v][--maxfail=3][-m][a][-m][b]", await box.OptionsAsync("not slow", verbose: true, maxFail: 3, marks: ["a", "b"]));
    }

    [Fact]
    public async Task Stdin_and_environment_parameters_reach_the_command()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);

        Assert.Equal("line 1\nline 2\n", await box.CatAsync("line 1\nline 2\n"));
        Assert.Equal("hi; $(id)-yes", await box.EnvAsync("hi; $(id)"));
    }

    [Fact]
    public async Task Task_completes_on_exit_code_0_and_throws_ExecFailedException_with_the_result_otherwise()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);

        await box.CheckAsync(0);
        var failed = await Assert.ThrowsAsync<ExecFailedException>(() => box.CheckAsync(3));

        Assert.Equal(new ExecResult(3, "out\n", "err\n"), failed.Result);
    }

    [Fact]
    public async Task Task_of_int_returns_the_exit_code_and_Task_of_ExecResult_the_result_whatever_the_code()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);

        Assert.Equal(5, await box.ExitAsync(5));
        Assert.Equal(new ExecResult(3, "out\n", "err\n"), await box.ResultAsync(3));
    }

    [Fact]
    public async Task Task_of_string_returns_stdout_or_throws_on_failure()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);

        Assert.Equal("hello", await box.TextAsync(0));
        Assert.Equal(2, (await Assert.ThrowsAsync<ExecFailedException>(() => box.TextAsync(2))).Result!.ExitCode);
    }

    [Fact]
    public async Task Task_of_T_parses_stdout_as_JSON_and_quotes_stdout_when_it_is_not()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);

        Assert.Equal(new JsonPoint(1, "a"), await box.JsonAsync("{\"x\":1,\"name\":\"a\"}"));
        var bad = await Assert.ThrowsAsync<ExecOutputException>(() => box.JsonAsync("not json at all"));
        Assert.Contains("it starts: not json at all", bad.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ExecFailedException>(() => box.FailingJsonAsync());
    }

    [Fact]
    public async Task Task_of_ContainerProcess_streams_the_running_process()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);

        await using var process = await box.CountAsync(3);
        var lines = new List<string>();
        await foreach (var line in process.Stdout.ReadLinesAsync())
        {
            lines.Add(line);
        }

        Assert.Equal(["1", "2", "3"], lines);
        Assert.Equal(0, await process.WaitAsync());
    }

    [Fact]
    public async Task IAsyncEnumerable_of_string_yields_lines_and_throws_at_the_end_on_failure()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);

        Assert.Equal(["1", "2", "3"], await ToListAsync(box.LinesAsync(3)));
        var seen = new List<string>();
        var failed = await Assert.ThrowsAsync<ExecFailedException>(async () =>
        {
            await foreach (var line in box.FailingLinesAsync())
            {
                seen.Add(line);
            }
        });
        Assert.Equal(["a"], seen);
        Assert.Equal(4, failed.Result!.ExitCode);
    }

    [Fact]
    public async Task IAsyncEnumerable_of_T_yields_one_value_per_JSON_line()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);

        Assert.Equal([new JsonPoint(1, "a"), new JsonPoint(2, "b")], await ToListAsync(box.PointsAsync()));
    }

    [Fact]
    public async Task A_timeout_reports_137_with_the_output_so_far_or_throws_ExecTimeoutException_carrying_it()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);

        var result = await box.SlowResultAsync();
        Assert.Equal(137, result.ExitCode);
        Assert.Equal("started\n", result.Stdout);
        Assert.Equal(137, await box.SlowExitAsync());
        var timedOut = await Assert.ThrowsAsync<ExecTimeoutException>(() => box.SlowTextAsync());
        Assert.Equal("started\n", timedOut.Result!.Stdout);
    }

    [Fact]
    public async Task A_cancelled_command_is_killed_in_the_sandbox_and_never_touches_its_file()
    {
        await using var box = await TypedToolbox.CreateAsync(fixture.Client);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => box.LateTouchAsync(cancel.Token));
        await Task.Delay(TimeSpan.FromSeconds(4));

        Assert.Equal(1, await box.ExistsAsync("/tmp/done"));
    }

    [Fact]
    public async Task The_chained_form_runs_every_result_form_and_terminates_the_sandbox()
    {
        Assert.Equal("hello", await TypedToolbox.CreateAsync(fixture.Client).TextAsync(0));
        await TypedToolbox.CreateAsync(fixture.Client).CheckAsync(0);
        Assert.Equal(new JsonPoint(1, "a"), await TypedToolbox.CreateAsync(fixture.Client).JsonAsync("{\"x\":1,\"name\":\"a\"}"));
        Assert.Equal(["1", "2"], await ToListAsync(TypedToolbox.CreateAsync(fixture.Client).LinesAsync(2)));
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}

public sealed record JsonPoint(int X, string Name);

[Sandbox(App = "dsl-e2e", Timeout = "5m", Workdir = "/tmp")]
[SandboxImage("busybox:latest")]
public partial class TypedToolbox
{
    [Command("printf", "[%s]", "{files}", "r={ratio}", "{when}", "{day}", "{id}", "{span}", "{flag}", "--maxfail={maxFail}")]
    public partial Task<string> ArgsAsync(string[] files, double ratio, DateTimeOffset when, DayOfWeek day, Guid id, TimeSpan span, bool flag, int? maxFail = null);

    [Command("printf", "[%s]", "run")]
    public partial Task<string> OptionsAsync([Option("-k")] string? filter = null, [Option("-v")] bool verbose = false, [Option("--maxfail=")] int? maxFail = null, [Option("-m")] IReadOnlyList<string>? marks = null);

    [Command("cat")]
    public partial Task<string> CatAsync([Stdin] string input);

    [Command("sh", "-c", "printf %s \"$GREETING-$FIXED\"", Env = ["FIXED=yes"])]
    public partial Task<string> EnvAsync([Env("GREETING")] string greeting);

    [Command("sh", "-c", "echo out; echo err >&2; exit {code}")]
    public partial Task CheckAsync(int code);

    [Command("sh", "-c", "echo out; echo err >&2; exit {code}")]
    public partial Task<ExecResult> ResultAsync(int code);

    [Command("sh", "-c", "exit {code}")]
    public partial Task<int> ExitAsync(int code);

    [Command("sh", "-c", "printf hello; exit {code}")]
    public partial Task<string> TextAsync(int code);

    [Command("printf", "%s", "{json}")]
    public partial Task<JsonPoint> JsonAsync(string json);

    [Command("sh", "-c", "printf '{{}}'; exit 1")]
    public partial Task<JsonPoint> FailingJsonAsync();

    [Command("seq", "1", "{count}")]
    public partial Task<ContainerProcess> CountAsync(int count);

    [Command("seq", "1", "{count}")]
    public partial IAsyncEnumerable<string> LinesAsync(int count);

    [Command("sh", "-c", "echo a; exit 4")]
    public partial IAsyncEnumerable<string> FailingLinesAsync();

    [Command("printf", "%s\n", "{{\"x\":1,\"name\":\"a\"}}", "{{\"x\":2,\"name\":\"b\"}}")]
    public partial IAsyncEnumerable<JsonPoint> PointsAsync();

    [Command("sh", "-c", "echo started; sleep 30", Timeout = "2s")]
    public partial Task<ExecResult> SlowResultAsync();

    [Command("sh", "-c", "echo started; sleep 30", Timeout = "2s")]
    public partial Task<int> SlowExitAsync();

    [Command("sh", "-c", "echo started; sleep 30", Timeout = "2s")]
    public partial Task<string> SlowTextAsync();

    [Command("sh", "-c", "sleep 2; touch /tmp/done")]
    public partial Task<int> LateTouchAsync(CancellationToken cancellationToken);

    [Command("test", "-e", "{path}")]
    public partial Task<int> ExistsAsync(string path);
}
