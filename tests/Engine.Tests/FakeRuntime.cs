using System.Collections.Concurrent;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Engine.Tests;

/// <summary>An OCI runtime stand-in: each sandbox is a <see cref="FakeContainer"/> over an in-memory agent.</summary>
internal sealed class FakeRuntime : IContainerRuntime
{
    /// <summary>Every container started, by id.</summary>
    public ConcurrentDictionary<string, FakeContainer> Started { get; } = new();

    public string Name => "fake";

    /// <summary>When set, every start waits for it (a start still under way); a fault fails the start.</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>How many starts are waiting at <see cref="Gate"/>.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    private int _waiting;

    public async Task<IRunningContainer> StartAsync(ContainerSpec spec, CancellationToken ct)
    {
        if (Gate is { } gate)
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                await gate.Task.WaitAsync(ct);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        var container = new FakeContainer(spec);
        await container.Agent.Channel.Ready.WaitAsync(ct);
        if (spec.Entrypoint is { } entrypoint)
        {
            container.Entrypoint = await container.Agent.Channel.SpawnAsync(
                entrypoint, ExecEnvironment.Build(spec.ImageEnv, spec.Env, entrypoint.Env, spec.Hostname), spec.Workdir, isMain: true, ct);
        }

        Started[spec.Id] = container;
        return container;
    }
}

/// <summary>A running sandbox without a container: processes and connections go to a <see cref="FakeAgent"/>.</summary>
internal sealed class FakeContainer(ContainerSpec started) : IRunningContainer
{
    private ContainerSpec _spec = started;

    private readonly TaskCompletionSource<ProcessExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FakeAgent Agent { get; } = new();

    public ContainerSpec Spec => _spec;

    public bool Terminated { get; private set; }

    public bool Disposed { get; private set; }

    public string Id => _spec.Id;

    public SupervisedProcess? Entrypoint { get; set; }

    public Task<ProcessExit> Exited => _exited.Task;

    /// <summary>Ends the sandbox as if its main process exited with <paramref name="code"/>.</summary>
    public void Exit(int code) => _exited.TrySetResult(new ProcessExit(code, null, false));

    /// <summary>Ends the sandbox as the runtime reported <paramref name="exit"/> (a kill, a limit's cause, …).</summary>
    public void Exit(ProcessExit exit) => _exited.TrySetResult(exit);

    public Task<SupervisedProcess> ExecAsync(ProcessSpec process, CancellationToken ct) =>
        _exited.Task.IsCompleted
            ? throw new SandboxEndedException()
            : Agent.Channel.SpawnAsync(process, ExecEnvironment.Build(_spec.ImageEnv, _spec.Env, process.Env, _spec.Hostname), process.Workdir, isMain: false, ct);

    public Task<SandboxConnection> ConnectAsync(int port, CancellationToken ct) => Agent.Channel.ConnectAsync(port, ct);

    public Task CopyWritableLayerAsync(string destination, CancellationToken ct) => Task.CompletedTask;

    /// <summary>The claim a warm pool's container was given, or null.</summary>
    public ContainerClaim? Claim { get; private set; }

    public async Task ClaimAsync(ContainerClaim claim, CancellationToken ct)
    {
        if (Claim is not null || _spec.Entrypoint is not null)
        {
            throw new InvalidOperationException("claimed twice");
        }

        Claim = claim;
        _spec = _spec with { Env = claim.Env, Workdir = claim.Workdir, Entrypoint = claim.Entrypoint };
        if (claim.Entrypoint is { } entrypoint)
        {
            Entrypoint = await Agent.Channel.SpawnAsync(
                entrypoint, ExecEnvironment.Build(_spec.ImageEnv, _spec.Env, entrypoint.Env, _spec.Hostname), _spec.Workdir, isMain: true, ct);
        }
    }

    public async Task TerminateAsync(CancellationToken ct)
    {
        Terminated = true;
        _exited.TrySetResult(new ProcessExit(null, 9, false));
        await Agent.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await TerminateAsync(CancellationToken.None);
        if (Entrypoint is not null)
        {
            await Entrypoint.DisposeAsync();
        }

        Disposed = true;
    }
}
