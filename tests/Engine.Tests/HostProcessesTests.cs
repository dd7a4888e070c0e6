using TypedSandbox.Server.Processes;

namespace TypedSandbox.Engine.Tests;

/// <summary>The host process supervisor with ordinary tools (sh, head, sleep): no root, no container runtime.</summary>
public sealed class HostProcessesTests : IDisposable
{
    // Not an assertion: ends a test that would otherwise hang when the supervisor fails to end a process.
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromMinutes(2));

    public void Dispose() => _guard.Dispose();

    [Fact]
    public async Task Stdout_is_kept_up_to_its_limit_and_the_rest_is_drained()
    {
        // 200000 bytes of 'x' lines: more than the pipe holds, so a supervisor that stopped reading would hang.
        var result = await HostProcesses.RunAsync(Shell("head -c 200000 /dev/zero | tr '\\0' x | fold -w 100") with { StdoutLimit = 1000 },
            _guard.Token);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(1000, result.Stdout.Length);
        Assert.StartsWith(new string('x', 100) + "\n", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stderr_keeps_only_its_last_lines_and_a_non_zero_exit_is_reported_with_them()
    {
        var result = await HostProcesses.RunAsync(Shell("for i in $(seq 1 100); do echo line$i >&2; done; exit 3") with { StderrLines = 5 },
            _guard.Token);

        Assert.Equal(3, result.ExitCode);
        Assert.False(result.Succeeded);
        Assert.False(result.TimedOut);
        Assert.Equal("line96\nline97\nline98\nline99\nline100", result.Stderr);
    }

    [Fact]
    public async Task A_stderr_line_longer_than_the_bound_keeps_its_start_and_its_end()
    {
        // As cp reports a path too long to create: the reason is at the end of a very long line.
        var result = await HostProcesses.RunAsync(
            Shell("printf 'cp: cannot create %s: File name too long\\n' $(head -c 20000 /dev/zero | tr '\\0' d) >&2; exit 1"), _guard.Token);

        var line = result.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("cp: cannot create ddd", line, StringComparison.Ordinal);
        Assert.EndsWith("ddd: File name too long", line, StringComparison.Ordinal);
        Assert.True(line.Length < 5000, $"a {line.Length}-character line");
    }

    [Fact]
    public async Task Stdin_is_written_and_closed()
    {
        var result = await HostProcesses.RunAsync(new HostProcessStart("sh", ["-c", "tr a-z A-Z"]) { Stdin = "hello\n" }, _guard.Token);

        Assert.True(result.Succeeded);
        Assert.Equal("HELLO\n", result.Stdout);
    }

    [Fact]
    public async Task A_timeout_kills_the_process_tree_and_reports_it()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), "tsb-supervisor-" + Guid.NewGuid().ToString("N"));
        try
        {
            // The child writes its pid, then both wait far longer than the test may run.
            var start = Shell($"sleep 600 & echo $! > {pidFile}; echo started >&2; wait") with { Timeout = TimeSpan.FromSeconds(3), KillTree = true };

            var result = await HostProcesses.RunAsync(start, _guard.Token);

            Assert.True(result.TimedOut);
            Assert.False(result.Succeeded);
            Assert.Equal(128 + 9, result.ExitCode);
            Assert.Equal("started", result.Stderr);
            Assert.False(IsRunning(int.Parse(await File.ReadAllTextAsync(pidFile, _guard.Token), System.Globalization.CultureInfo.InvariantCulture)));
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task Cancellation_kills_and_reaps_the_process_and_throws()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), "tsb-supervisor-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_guard.Token);
            var run = HostProcesses.RunAsync(Shell($"echo $$ > {pidFile}; exec sleep 600"), cancel.Token);
            var pid = await ReadPidAsync(pidFile);
            Assert.True(IsRunning(pid));

            await cancel.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            Assert.False(IsRunning(pid));
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task A_started_process_is_killed_and_reaped_when_disposed()
    {
        var sleeper = HostProcesses.Start(new HostProcessStart("sleep", ["600"]));
        var pid = sleeper.Id;
        Assert.False(sleeper.HasExited);

        await sleeper.DisposeAsync();

        Assert.True(sleeper.HasExited);
        Assert.Equal(128 + 9, sleeper.ExitCode);
        Assert.False(IsRunning(pid));
    }

    [Fact]
    public async Task A_started_process_whose_pipes_the_caller_closed_is_disposed_cleanly()
    {
        // The caller owns a started process's pipes as streams (the agent channel closes the runtime's itself).
        var cat = HostProcesses.Start(new HostProcessStart("cat", []));
        await cat.StandardInput.DisposeAsync();
        await cat.StandardOutput.DisposeAsync();
        await cat.WaitForExitAsync(_guard.Token);

        await cat.DisposeAsync();

        Assert.Equal(0, cat.ExitCode);
    }

    [Fact]
    public void A_missing_executable_fails_to_start()
    {
        Assert.Throws<System.ComponentModel.Win32Exception>(() => HostProcesses.Start(new HostProcessStart("/nonexistent/tsb-tool", [])));
    }

    private static HostProcessStart Shell(string script) => new("sh", ["-c", script]);

    private async Task<int> ReadPidAsync(string pidFile)
    {
        // The process writes its pid at once; the loop only waits for that write, bounded by the test's token.
        while (true)
        {
            _guard.Token.ThrowIfCancellationRequested();
            if (File.Exists(pidFile) && (await File.ReadAllTextAsync(pidFile, _guard.Token)).Trim() is { Length: > 0 } text)
            {
                return int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
            }

            await Task.Delay(10, _guard.Token);
        }
    }

    // A reaped process has no /proc entry; a zombie (killed, not reaped) would still show one with state Z.
    private static bool IsRunning(int pid) => File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
}
