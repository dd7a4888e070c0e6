using System.Security.Cryptography;
using System.Text;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Tests.Isolation;

namespace TypedSandbox.Server.Tests.Exec;

/// <summary>Exec through the in-sandbox agent, on real crun sandboxes.</summary>
[Collection(SandboxTests.Name)]
public sealed class AgentExecTests(SandboxHost host) : IAsyncLifetime
{
    private IRunningContainer _sandbox = null!;

    public async Task InitializeAsync()
    {
        if (host.SkipReason is null)
        {
            _sandbox = await host.Runtime().StartAsync(host.Spec(), CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        if (_sandbox is not null)
        {
            await _sandbox.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Echo_stdout_and_stderr_arrive_byte_exact()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);

        var result = await Run.ShAsync(_sandbox, "printf 'hello\\nworld'; printf 'err\\0bytes' >&2");

        Assert.Equal(0, result.Exit.ExitCode);
        Assert.Equal("hello\nworld"u8.ToArray(), result.Stdout);
        Assert.Equal("err\0bytes"u8.ToArray(), result.Stderr);
    }

    [SkippableFact]
    public async Task Ten_megabytes_of_output_arrive_intact()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);

        // The same bytes hashed inside the sandbox and received outside.
        var result = await Run.ShAsync(_sandbox, "head -c 10485760 /dev/urandom > /tmp/blob && sha256sum /tmp/blob >&2 && cat /tmp/blob");

        Assert.Equal(0, result.Exit.ExitCode);
        Assert.Equal(10 * 1024 * 1024, result.Stdout.Length);
        var expected = result.Err.Split(' ')[0];
        Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(result.Stdout)));
    }

    [SkippableFact]
    public async Task Stdin_round_trips_and_eof_ends_the_reader()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var cat = await _sandbox.ExecAsync(new ProcessSpec(["cat"]), CancellationToken.None);

        await cat.WriteStdinAsync(0, "first "u8.ToArray(), eof: false, CancellationToken.None);
        // A re-sent chunk (same offset) is ignored; an overlapping one only adds its new tail.
        await cat.WriteStdinAsync(0, "first "u8.ToArray(), eof: false, CancellationToken.None);
        await cat.WriteStdinAsync(3, "st second"u8.ToArray(), eof: false, CancellationToken.None);
        await cat.WriteStdinAsync(12, ""u8.ToArray(), eof: true, CancellationToken.None);
        var result = await Run.CollectAsync(cat);

        Assert.Equal(0, result.Exit.ExitCode);
        Assert.Equal("first second", result.Out);
    }

    [SkippableFact]
    public async Task Stdin_with_a_gap_is_rejected()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var cat = await _sandbox.ExecAsync(new ProcessSpec(["cat"]), CancellationToken.None);

        await Assert.ThrowsAsync<TypedSandbox.Server.Engine.EngineException>(
            async () => await cat.WriteStdinAsync(5, "x"u8.ToArray(), eof: false, CancellationToken.None));
    }

    [SkippableTheory]
    [InlineData("exit 0", 0)]
    [InlineData("exit 1", 1)]
    [InlineData("exit 42", 42)]
    public async Task Exit_codes_are_reported(string script, int code)
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);

        var result = await Run.ShAsync(_sandbox, script);

        Assert.Equal(new ProcessExit(code, null, false), result.Exit);
    }

    [SkippableFact]
    public async Task Kill_ends_the_process_with_sigkill()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var sleeper = await _sandbox.ExecAsync(new ProcessSpec(["sh", "-c", "echo started; exec sleep 1000"]), CancellationToken.None);
        await sleeper.Stdout.ReadAsync(0, 100, CancellationToken.None);

        await sleeper.KillAsync(CancellationToken.None);
        var exit = await sleeper.Completion.WaitAsync(Run.Patience);

        Assert.Equal(new ProcessExit(null, 9, false), exit);
        Assert.Equal(137, exit.StatusCode);
    }

    [SkippableFact]
    public async Task Timeout_kills_the_process_group_and_is_recorded()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var spec = new ProcessSpec(["sh", "-c", "sleep 1000 & sleep 1000; echo unreachable"]) { Timeout = TimeSpan.FromMilliseconds(300) };
        await using var process = await _sandbox.ExecAsync(spec, CancellationToken.None);

        var result = await Run.CollectAsync(process);

        Assert.True(result.Exit.TimedOut);
        Assert.Equal(9, result.Exit.Signal);
        Assert.Empty(result.Stdout);
        // The background sleep was in the same process group: nothing is left running.
        var ps = await Run.ShAsync(_sandbox, "ps -o comm | grep -c sleep || true");
        Assert.Equal("0", ps.Out.Trim());
    }

    [SkippableFact]
    public async Task Journal_resumes_from_any_offset_after_the_process_ended()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var process = await _sandbox.ExecAsync(new ProcessSpec(["sh", "-c", "seq 1 100000"]), CancellationToken.None);
        var all = (await Run.CollectAsync(process)).Stdout;

        // A reader that went away after 1000 bytes comes back: it gets exactly the rest.
        var first = await process.Stdout.ReadAsync(0, 1000, CancellationToken.None);
        var rest = await process.Stdout.ReadToEndAsync(first.Length, CancellationToken.None);

        Assert.Equal(all, first.ToArray().Concat(rest).ToArray());
        Assert.Equal(Encoding.ASCII.GetBytes(string.Join('\n', Enumerable.Range(1, 100000)) + "\n"), all);
        Assert.True(process.Stdout.IsComplete);
    }

    [SkippableFact]
    public async Task Env_and_workdir_reach_the_process()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var spec = new ProcessSpec(["sh", "-c", "echo $GREETING; pwd"])
        {
            Env = new Dictionary<string, string> { ["GREETING"] = "hi there" },
            Workdir = "/tmp",
        };
        await using var process = await _sandbox.ExecAsync(spec, CancellationToken.None);

        var result = await Run.CollectAsync(process);

        Assert.Equal("hi there\n/tmp\n", result.Out);
    }

    [SkippableFact]
    public async Task Discarded_stdout_stays_empty_while_stderr_is_kept()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var spec = new ProcessSpec(["sh", "-c", "echo out; echo err >&2"]) { DiscardStdout = true };
        await using var process = await _sandbox.ExecAsync(spec, CancellationToken.None);

        var result = await Run.CollectAsync(process);

        Assert.Empty(result.Stdout);
        Assert.Equal("err\n", result.Err);
    }

    [SkippableFact]
    public async Task Missing_executable_fails_to_start_with_a_clear_message()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);

        var error = await Assert.ThrowsAsync<ExecStartException>(() => _sandbox.ExecAsync(new ProcessSpec(["no-such-tool"]), CancellationToken.None));

        Assert.Contains("no-such-tool", error.Message, StringComparison.Ordinal);
        Assert.Contains("not found", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Orphans_are_reaped_by_the_agent()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);

        // The inner shell exits at once and leaves its child to PID 1; the child is then killed. A zombie keeps its
        // /proc entry until its parent reaps it, so the entry going away is the reaping itself (the exec waits for
        // it, bounded by Run.Patience).
        var orphan = await Run.ShAsync(_sandbox, "sh -c 'sleep 1000 >/dev/null 2>&1 & echo $!'");
        var pid = int.Parse(orphan.Out.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var parent = await Run.ShAsync(_sandbox, $"kill {pid}; while [ -e /proc/{pid} ]; do sleep 0.05; done; echo reaped");
        var zombies = await Run.ShAsync(_sandbox, "ps -o stat | grep -c Z || true");

        Assert.Equal("reaped\n", parent.Out);
        Assert.Equal("0", zombies.Out.Trim());
    }

    [SkippableFact]
    public async Task Many_concurrent_execs_each_get_their_own_output()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Run.ShAsync(_sandbox, $"seq 1 {1000 + i}")));

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(string.Join('\n', Enumerable.Range(1, 1000 + i)) + "\n", results[i].Out);
        }
    }

    [SkippableFact]
    public async Task An_oversized_command_line_is_rejected_before_it_reaches_the_agent()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);

        await Assert.ThrowsAsync<TypedSandbox.Server.Engine.EngineException>(() => _sandbox.ExecAsync(new ProcessSpec(["echo", new string('x', 2 << 20)]), CancellationToken.None));
        Assert.Equal("ok\n", (await Run.ExecAsync(_sandbox, "echo", "ok")).Out);
    }
}
