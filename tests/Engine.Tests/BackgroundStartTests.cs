using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Engine.Tests;

/// <summary>
/// A create that returns before its container runs (<see cref="SandboxManager.BeginCreateAsync"/>): what waits for the
/// start, what does not, and how a start that fails or a sandbox ended while it starts are reported and cleaned up.
/// </summary>
public sealed class BackgroundStartTests
{
    private static SandboxSpec Spec(string? name = null) => new() { AppId = EngineCore.AppId, ImageId = EngineCore.ImageId, Name = name };

    [Fact]
    public async Task A_create_returns_before_the_start_and_lookups_that_need_the_container_wait_for_it()
    {
        await using var core = await EngineCore.StartAsync();
        core.Runtime.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var session = await core.Sandboxes.BeginCreateAsync(Spec(), null, CancellationToken.None).WaitAsync(Patience.Wait);
        await Patience.UntilAsync(() => core.Runtime.Waiting == 1, "the start to reach the runtime");

        // Known by id and task id at once, not finished, without a container yet.
        Assert.Same(session, core.Sandboxes.Get(session.Id));
        Assert.Same(session, core.Sandboxes.Catalog.GetByTaskId(session.TaskId));
        Assert.False(session.Started.IsCompleted);
        Assert.Null(session.Result);
        session.RequireNotFinished();
        Assert.Equal("Sandbox " + session.Id + " is still starting.", Assert.Throws<EngineException>(session.RequireRunning).Message);
        var byId = core.Sandboxes.GetStartedAsync(session.Id, CancellationToken.None);
        var byTask = core.Sandboxes.GetStartedByTaskIdAsync(session.TaskId, CancellationToken.None);
        await Task.Delay(50);
        Assert.False(byId.IsCompleted);
        Assert.False(byTask.IsCompleted);

        core.Runtime.Gate.SetResult();
        Assert.Same(session, await byId.Within());
        Assert.Same(session, await byTask.Within());
        Assert.Null(session.StartError);
        var exec = await core.Sandboxes.ExecAsync(session, "exec-1", new ProcessSpec(["true"]), CancellationToken.None);
        await core.Container(session).Agent.ExitAsync(exec, 0);
        Assert.Equal(0, (await exec.Completion.Within()).ExitCode);
    }

    [Fact]
    public async Task A_wait_for_the_start_ends_with_its_callers_cancellation_and_leaves_the_start_alone()
    {
        await using var core = await EngineCore.StartAsync();
        core.Runtime.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var session = await core.Sandboxes.BeginCreateAsync(Spec(), null, CancellationToken.None).WaitAsync(Patience.Wait);

        using var caller = new CancellationTokenSource();
        var waiting = core.Sandboxes.GetStartedAsync(session.Id, caller.Token);
        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        core.Runtime.Gate.SetResult();
        await session.Started.WaitAsync(Patience.Wait);
        Assert.Null(session.StartError);
        Assert.NotNull(session.RequireRunning());
    }

    [Fact]
    public async Task A_sandbox_terminated_while_it_starts_ends_terminated_and_its_container_is_torn_down_once_started()
    {
        await using var core = await EngineCore.StartAsync();
        core.Runtime.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var session = await core.Sandboxes.BeginCreateAsync(Spec("starting"), null, CancellationToken.None).WaitAsync(Patience.Wait);
        await Patience.UntilAsync(() => core.Runtime.Waiting == 1, "the start to reach the runtime");

        var terminating = core.Sandboxes.TerminateAsync(session.Id, CancellationToken.None);
        // The result is known (and the name free) at once; the teardown waits for the container.
        Assert.Equal(SandboxOutcome.Terminated, (await session.Completion.Within()).Outcome);
        var again = await core.Sandboxes.BeginCreateAsync(Spec("starting"), null, CancellationToken.None).WaitAsync(Patience.Wait);
        Assert.False(terminating.IsCompleted);

        core.Runtime.Gate.SetResult();
        Assert.Equal(SandboxOutcome.Terminated, (await terminating.Within()).Outcome);
        Assert.True(core.Container(session).Terminated);
        Assert.Equal("Sandbox " + session.Id + " has already finished.", Assert.Throws<EngineException>(session.RequireRunning).Message);
        await again.Started.WaitAsync(Patience.Wait);
        Assert.Null(again.Result);
        Assert.NotNull(again.RequireRunning());
    }

    [Fact]
    public async Task A_start_that_fails_ends_the_sandbox_with_an_init_failure_that_says_why()
    {
        await using var core = await EngineCore.StartAsync();
        core.Runtime.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var session = await core.Sandboxes.BeginCreateAsync(Spec("failing"), null, CancellationToken.None).WaitAsync(Patience.Wait);

        core.Runtime.Gate.SetException(new InvalidOperationException("crun said no"));
        var started = await core.Sandboxes.GetStartedAsync(session.Id, CancellationToken.None).Within();

        Assert.Same(session, started);
        Assert.IsType<InvalidOperationException>(session.StartError);
        var result = await session.Completion.Within();
        Assert.Equal(SandboxOutcome.InitFailure, result.Outcome);
        Assert.Equal("The sandbox could not start: crun said no", result.Message);
        Assert.Null(session.Container);
        var refused = Assert.Throws<EngineException>(session.RequireRunning);
        Assert.Equal(EngineErrorKind.FailedPrecondition, refused.Kind);
        Assert.Equal("Sandbox " + session.Id + " has already finished: The sandbox could not start: crun said no", refused.Message);
        // Recorded (also after a restart) and its name freed.
        Assert.Equal(SandboxOutcome.InitFailure, (await core.Sandboxes.Catalog.GetStoredResultAsync(session.Id, CancellationToken.None))?.Outcome);
        core.Runtime.Gate = null;
        Assert.Null((await core.CreateAsync(spec => spec with { Name = "failing" }).Within()).Result);
    }

    [Fact]
    public async Task A_create_that_waits_for_the_start_throws_the_start_s_own_error()
    {
        await using var core = await EngineCore.StartAsync();
        core.Runtime.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        core.Runtime.Gate.SetException(new InvalidOperationException("crun said no"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => core.CreateAsync()).WaitAsync(Patience.Wait);

        Assert.Equal("crun said no", error.Message);
    }

    [Fact]
    public async Task The_engine_stopping_while_a_sandbox_starts_waits_for_the_start_and_tears_the_container_down()
    {
        var core = await EngineCore.StartAsync();
        try
        {
            core.Runtime.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var session = await core.Sandboxes.BeginCreateAsync(Spec(), null, CancellationToken.None).WaitAsync(Patience.Wait);
            await Patience.UntilAsync(() => core.Runtime.Waiting == 1, "the start to reach the runtime");

            var stopping = core.Sandboxes.DisposeAsync().AsTask();
            await Task.Delay(50);
            Assert.False(stopping.IsCompleted);

            core.Runtime.Gate.SetResult();
            await stopping.WaitAsync(Patience.Wait);
            Assert.Equal(SandboxOutcome.Terminated, (await session.Completion.Within()).Outcome);
            Assert.True(core.Container(session).Disposed);
        }
        finally
        {
            await core.DisposeAsync();
        }
    }
}
