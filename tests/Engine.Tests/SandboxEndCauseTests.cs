using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Engine.Tests;

/// <summary>A sandbox that ended at one of its limits says which, in its result.</summary>
public sealed class SandboxEndCauseTests
{
    private static readonly ResourceLimits Limits = new(256L << 20, 1000, 1024);

    [Fact]
    public void A_pids_limit_hit_under_runsc_names_the_host_limit_and_gVisors_own_threads()
    {
        var cause = SandboxEndCause.Describe(RuntimeFlavor.Runsc, OciConfig.LimitsFor(Limits, RuntimeFlavor.Runsc), oomKills: 0, pidsLimitHits: 3);

        Assert.Equal($"The sandbox reached its limit of {1024 + OciConfig.RunscPidsHeadroom} host processes and threads (gVisor's own threads count too), and gVisor's kernel ended.", cause);
    }

    [Fact]
    public void A_pids_limit_hit_under_crun_names_the_limit()
    {
        Assert.Equal("The sandbox reached its limit of 1024 processes and threads.",
            SandboxEndCause.Describe(RuntimeFlavor.Crun, Limits, oomKills: 0, pidsLimitHits: 1));
    }

    [Fact]
    public void An_oom_kill_names_the_memory_limit_first()
    {
        Assert.Equal("The sandbox ran out of memory: it reached its limit of 256 MiB.",
            SandboxEndCause.Describe(RuntimeFlavor.Crun, Limits, oomKills: 1, pidsLimitHits: 1));
    }

    [Fact]
    public void No_counter_moved_no_cause()
    {
        Assert.Null(SandboxEndCause.Describe(RuntimeFlavor.Runsc, Limits, oomKills: 0, pidsLimitHits: 0));
    }

    [Fact]
    public async Task The_cause_becomes_the_sandboxes_result_message()
    {
        await using var core = await EngineCore.StartAsync();
        var session = await core.CreateAsync(spec => spec with { Timeout = TimeSpan.FromMinutes(5) });

        core.Container(session).Exit(new ProcessExit(null, 9, false, Cause: "The sandbox reached its limit of 5120 host processes and threads."));
        var result = await session.Completion.Within();

        Assert.Equal(SandboxOutcome.Failure, result.Outcome);
        Assert.Equal(137, result.ExitCode);
        Assert.Equal("The sandbox reached its limit of 5120 host processes and threads.", result.Message);
    }
}
