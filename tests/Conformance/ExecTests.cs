namespace TypedSandbox.Conformance.Tests;

/// <summary>sb.exec through Modal's JS SDK: output bytes, exit codes, stdin, poll/wait, timeouts.</summary>
[Collection(EngineTests.Name)]
public sealed class ExecTests(EngineFixture fixture)
{
    [Fact]
    public async Task Stdout_and_stderr_arrive_byte_exact_with_the_exit_code()
    {
        var result = await fixture.RunScenarioAsync("exec-output");

        Assert.Equal("6f75740a01ff", result.GetProperty("stdout").GetString());
        Assert.Equal("err line\n", result.GetProperty("stderr").GetString());
        Assert.Equal(3, result.GetProperty("code").GetInt32());
        // The SDK creates through SandboxCreateV2 by default: a V1 fallback would mint the other id shape.
        SandboxIdForm.Assert(result.GetProperty("id").GetString(), v2: true);
    }

    [Fact]
    public async Task Exit_codes_zero_one_and_seven_are_reported()
    {
        var result = await fixture.RunScenarioAsync("exec-exit-codes");

        Assert.Equal(0, result.GetProperty("zero").GetInt32());
        Assert.Equal(1, result.GetProperty("one").GetInt32());
        Assert.Equal(7, result.GetProperty("seven").GetInt32());
    }

    [Fact]
    public async Task Ten_mebibytes_of_output_arrive_complete()
    {
        var result = await fixture.RunScenarioAsync("exec-large-output");

        Assert.Equal(10 * 1024 * 1024, result.GetProperty("length").GetInt32());
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Enumerable.Repeat((byte)'x', 10 * 1024 * 1024).ToArray()));
        Assert.Equal(expected, result.GetProperty("sha256").GetString());
        Assert.Equal(0, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Stdin_round_trips_and_close_ends_the_input()
    {
        var result = await fixture.RunScenarioAsync("exec-stdin");

        Assert.Equal("first line\nsecond line\n", result.GetProperty("stdout").GetString());
        Assert.Equal(0, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Wait_blocks_until_exit_and_then_keeps_answering_the_code()
    {
        var result = await fixture.RunScenarioAsync("exec-wait-twice");

        Assert.Equal(4, result.GetProperty("first").GetInt32());
        Assert.Equal(4, result.GetProperty("second").GetInt32());
    }

    [Fact]
    public async Task An_exec_past_its_timeout_is_killed_after_its_output_arrived()
    {
        var result = await fixture.RunScenarioAsync("exec-timeout");

        // The engine's timer starts before the SDK's own deadline and wait() was asked at once: the answer is the
        // engine's kill, reported as SIGKILL (128 + 9), never the SDK's deadline error.
        var waited = result.GetProperty("waited");
        Assert.True(waited.GetProperty("ok").GetBoolean(), $"wait failed: {waited}");
        Assert.Equal(137, waited.GetProperty("value").GetInt32());
        var started = result.GetProperty("started");
        Assert.True(started.GetProperty("ok").GetBoolean(), $"the output before the kill did not arrive: {started}");
        Assert.Equal("started\n", started.GetProperty("value").GetString());
        Assert.False(result.GetProperty("sleepStillRunning").GetBoolean(), "the timed-out process is still running in the sandbox");
    }
}
