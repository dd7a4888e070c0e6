using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Sidecars;

/// <summary>
/// A sidecar container: its own root filesystem, processes and lifetime, in its sandbox's network namespace. Its
/// result is set once its container ended (its main process exited, or it was terminated).
/// </summary>
internal sealed class Sidecar
{
    private readonly TaskCompletionSource<SandboxResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _terminated;

    internal Sidecar(string id, string name, IRunningContainer container, TimeProvider clock)
    {
        Id = id;
        Name = name;
        Container = container;
        _ = RecordExitAsync(clock);
    }

    /// <summary>Its container id (what the protocol calls <c>container_id</c>).</summary>
    public string Id { get; }

    /// <summary>Its name in the sandbox.</summary>
    public string Name { get; }

    /// <summary>Its running container.</summary>
    public IRunningContainer Container { get; }

    /// <summary>Completes with its result when it ended.</summary>
    public Task<SandboxResult> Completion => _result.Task;

    /// <summary>Its result, or null while it runs.</summary>
    public SandboxResult? Result => _result.Task.IsCompletedSuccessfully ? _result.Task.Result : null;

    /// <summary>Kills everything in it and releases its host resources; the sandbox runs on.</summary>
    public async Task TerminateAsync(CancellationToken ct)
    {
        _terminated = true;
        await Container.TerminateAsync(ct).ConfigureAwait(false);
        await _result.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    private async Task RecordExitAsync(TimeProvider clock)
    {
        SandboxResult result;
        try
        {
            var exit = await Container.Exited.ConfigureAwait(false);
            var code = exit.ExitCode ?? (exit.Signal is { } signal ? 128 + signal : 1);
            result = _terminated
                ? new SandboxResult(SandboxOutcome.Terminated, 137, "Terminated by request.", clock.GetUtcNow())
                : new SandboxResult(code == 0 ? SandboxOutcome.Success : SandboxOutcome.Failure, code, null, clock.GetUtcNow());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            result = new SandboxResult(SandboxOutcome.Failure, 1, "The sidecar failed: " + e.Message, clock.GetUtcNow());
        }

        _result.TrySetResult(result);
    }
}
