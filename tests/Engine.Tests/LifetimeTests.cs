using System.Net.Sockets;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Engine.Tests;

/// <summary>The lifetime rules of the engine core: timeout, idle timeout and what keeps a sandbox from idling.</summary>
public sealed class LifetimeTests
{
    [Fact]
    public async Task Timeout_ends_the_sandbox_when_it_passes_and_not_before()
    {
        await using var core = await EngineCore.StartAsync();
        var session = await core.CreateAsync(spec => spec with { Timeout = TimeSpan.FromSeconds(60) });

        await core.AdvanceAsync(TimeSpan.FromSeconds(59));
        Assert.Null(session.Result);

        // The sweep's own timer (driven by the fake clock) ends it.
        core.Time.Advance(TimeSpan.FromSeconds(1));
        var result = await session.Completion.Within();

        Assert.Equal(SandboxOutcome.Timeout, result.Outcome);
        Assert.Equal(124, result.ExitCode);
        Assert.True(core.Container(session).Terminated);
    }

    [Fact]
    public async Task Idle_timeout_ends_a_sandbox_with_nothing_active()
    {
        await using var core = await EngineCore.StartAsync();
        var session = await core.CreateAsync(spec => spec with { IdleTimeout = TimeSpan.FromSeconds(10) });

        await core.AdvanceAsync(TimeSpan.FromSeconds(9));
        Assert.Null(session.Result);
        await core.AdvanceAsync(TimeSpan.FromSeconds(1));
        var result = await session.Completion.Within();

        Assert.Equal(SandboxOutcome.IdleTimeout, result.Outcome);
        Assert.True(core.Container(session).Terminated);
    }

    [Fact]
    public async Task Idle_timeout_spares_a_sandbox_while_an_exec_runs_and_restarts_when_it_ends()
    {
        await using var core = await EngineCore.StartAsync();
        var session = await core.CreateAsync(spec => spec with { IdleTimeout = TimeSpan.FromSeconds(10) });
        var exec = await core.Sandboxes.ExecAsync(session, "exec-1", new ProcessSpec(["sleep", "100"]), CancellationToken.None);

        await core.AdvanceAsync(TimeSpan.FromSeconds(30));
        Assert.Null(session.Result);

        await core.Container(session).Agent.ExitAsync(exec, 0);
        await exec.Completion.Within();
        await core.AdvanceAsync(TimeSpan.FromSeconds(9));
        Assert.Null(session.Result);
        await core.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(SandboxOutcome.IdleTimeout, (await session.Completion.Within()).Outcome);
    }

    [Fact]
    public async Task Idle_timeout_spares_a_sandbox_with_an_open_tunnel_connection()
    {
        await using var core = await EngineCore.StartAsync();
        var session = await core.CreateAsync(spec => spec with { IdleTimeout = TimeSpan.FromSeconds(10), Ports = [8080] });
        var tunnel = Assert.Single(session.Tunnels!.Endpoints);

        using var client = new TcpClient();
        await client.ConnectAsync(tunnel.Host, tunnel.HostPort);
        await core.Container(session).Agent.Connected.WaitAsync(Patience.Wait);
        await core.AdvanceAsync(TimeSpan.FromSeconds(30));

        Assert.Null(session.Result);
    }

    [Fact]
    public async Task Stdin_written_to_the_entrypoint_restarts_the_idle_clock()
    {
        await using var core = await EngineCore.StartAsync();
        var session = await core.CreateAsync(spec => spec with { EntrypointArgs = ["cat"], IdleTimeout = TimeSpan.FromSeconds(10) });

        await core.AdvanceAsync(TimeSpan.FromSeconds(9));
        await core.Sandboxes.WriteEntrypointStdinAsync(session, 0, "hello\n"u8.ToArray(), eof: false, CancellationToken.None);
        await core.AdvanceAsync(TimeSpan.FromSeconds(9));
        Assert.Null(session.Result);

        await core.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(SandboxOutcome.IdleTimeout, (await session.Completion.Within()).Outcome);
    }
}
