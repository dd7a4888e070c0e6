using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Engine.Tests;

/// <summary>Names held while a sandbox runs, eviction of what finished, and what a restarted engine reports.</summary>
public sealed class NameAndEvictionTests
{
    [Fact]
    public async Task Two_creates_with_one_name_start_one_sandbox_and_the_other_gets_already_exists()
    {
        await using var core = await EngineCore.StartAsync();
        var creates = Enumerable.Range(0, 2).Select(_ => core.CreateAsync(spec => spec with { Name = "shared" })).ToList();

        var outcomes = await Task.WhenAll(creates.Select(async c =>
        {
            try
            {
                return (Session: await c, Error: (EngineException?)null);
            }
            catch (EngineException e)
            {
                return (Session: (SandboxSession?)null, Error: e);
            }
        }));

        Assert.Single(outcomes, o => o.Session is not null);
        var refused = Assert.Single(outcomes, o => o.Error is not null);
        Assert.Equal(EngineErrorKind.AlreadyExists, refused.Error!.Kind);
        Assert.Single(core.Runtime.Started);
    }

    [Fact]
    public async Task A_name_is_free_again_once_its_holder_finished()
    {
        await using var core = await EngineCore.StartAsync();
        var first = await core.CreateAsync(spec => spec with { Name = "worker", Timeout = TimeSpan.FromSeconds(30) });
        Assert.Same(first, core.Sandboxes.Catalog.FindRunningByName(EngineCore.AppId, "worker"));

        await core.AdvanceAsync(TimeSpan.FromSeconds(30));
        await first.Completion.Within();
        Assert.Null(core.Sandboxes.Catalog.FindRunningByName(EngineCore.AppId, "worker"));

        var second = await core.CreateAsync(spec => spec with { Name = "worker" });
        Assert.Same(second, core.Sandboxes.Catalog.FindRunningByName(EngineCore.AppId, "worker"));
        Assert.Equal(second.Id, await core.Sandboxes.Catalog.FindNewestByNameAsync(EngineCore.AppId, "worker", CancellationToken.None));
    }

    [Fact]
    public async Task A_finished_sandbox_stays_in_memory_for_the_retention_period_then_only_its_record_remains()
    {
        await using var core = await EngineCore.StartAsync();
        var session = await core.CreateAsync();
        await core.Sandboxes.TerminateAsync(session.Id, CancellationToken.None);

        await core.AdvanceAsync(SandboxLifetime.Retention - TimeSpan.FromSeconds(1));
        Assert.Same(session, core.Sandboxes.TryGet(session.Id));
        Assert.False(core.Container(session).Disposed);

        await core.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Null(core.Sandboxes.TryGet(session.Id));
        Assert.Null(core.Sandboxes.Catalog.TryGetByTaskId(session.TaskId));
        Assert.True(core.Container(session).Disposed);
        var stored = await core.Sandboxes.Catalog.GetStoredResultAsync(session.Id, CancellationToken.None);
        Assert.Equal(SandboxOutcome.Terminated, stored!.Outcome);
    }

    [Fact]
    public async Task A_finished_exec_is_freed_after_the_retention_period_while_the_sandbox_runs_on()
    {
        await using var core = await EngineCore.StartAsync();
        var session = await core.CreateAsync(spec => spec with { Timeout = TimeSpan.FromHours(1) });
        var exec = await core.Sandboxes.ExecAsync(session, "exec-1", new ProcessSpec(["true"]), CancellationToken.None);
        await core.Container(session).Agent.ExitAsync(exec, 0);
        await exec.Completion.Within();

        await core.AdvanceAsync(SandboxLifetime.Retention - TimeSpan.FromSeconds(1));
        Assert.True(session.Execs.ContainsKey("exec-1"));
        await core.AdvanceAsync(TimeSpan.FromSeconds(1));

        Assert.False(session.Execs.ContainsKey("exec-1"));
        Assert.Null(session.Result);
    }

    [Fact]
    public async Task After_a_restart_sandboxes_that_were_running_are_reported_terminated_and_finished_ones_keep_their_result()
    {
        await using var core = await EngineCore.StartAsync();
        var running = await core.CreateAsync();
        var finished = await core.CreateAsync();
        await core.Sandboxes.TerminateAsync(finished.Id, CancellationToken.None);

        await core.RestartAsync();
        Assert.Equal(1, await core.Sandboxes.Catalog.ReportOrphansAsync(CancellationToken.None));

        var orphan = await core.Sandboxes.Catalog.GetStoredResultAsync(running.Id, CancellationToken.None);
        Assert.Equal(SandboxOutcome.Terminated, orphan!.Outcome);
        Assert.Equal(137, orphan.ExitCode);
        Assert.Contains("engine restarted", orphan.Message, StringComparison.Ordinal);
        var kept = await core.Sandboxes.Catalog.GetStoredResultAsync(finished.Id, CancellationToken.None);
        Assert.Equal("Terminated by request.", kept!.Message);
        Assert.Equal(SandboxOutcome.Terminated, (await core.Sandboxes.WaitAsync(running.Id, TimeSpan.Zero, CancellationToken.None))!.Outcome);
    }
}
