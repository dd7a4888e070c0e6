using TypedSandbox.Protocol.Client;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Sandboxes;

namespace TypedSandbox;

/// <summary>A sidecar container of a running sandbox (Modal's <c>SidecarContainer</c>): exec in it, wait for it, stop it.</summary>
public sealed class SidecarContainer
{
    private static readonly TimeSpan WaitLongPoll = TimeSpan.FromSeconds(10);
    private readonly Sandbox _sandbox;
    private GenericResult? _result;

    internal SidecarContainer(Sandbox sandbox, string containerId, string name, GenericResult? result)
    {
        _sandbox = sandbox;
        ContainerId = containerId;
        Name = name;
        _result = result is { Status: not GenericResult.Types.GenericStatus.Unspecified } ? result : null;
    }

    /// <summary>Its container id.</summary>
    public string ContainerId { get; }

    /// <summary>Its name in the sandbox.</summary>
    public string Name { get; }

    /// <summary>Starts a process in the sidecar (its own filesystem and processes, the sandbox's network).</summary>
    /// <param name="command">The program and its arguments (no shell is involved).</param>
    /// <param name="options">Timeout, working directory, environment and output handling.</param>
    /// <param name="cancellationToken">Cancels starting the process.</param>
    /// <exception cref="NotFoundException">The sidecar is not known to the sandbox.</exception>
    /// <exception cref="ConflictException">The sidecar or the sandbox has finished.</exception>
    public Task<ContainerProcess> ExecAsync(IReadOnlyList<string> command, ExecOptions? options = null, CancellationToken cancellationToken = default) =>
        _sandbox.ExecInContainerAsync(ContainerId, command, options, cancellationToken);

    /// <summary>Runs a process in the sidecar to completion and returns its exit code and buffered output.</summary>
    /// <param name="command">The program and its arguments (no shell is involved).</param>
    /// <param name="options">Timeout, working directory, environment.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<ExecResult> RunAsync(IReadOnlyList<string> command, ExecOptions? options = null, CancellationToken cancellationToken = default)
    {
        await using var process = await ExecAsync(command, options, cancellationToken).ConfigureAwait(false);
        return await process.CollectAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns its exit code if it has ended (137 after termination), otherwise null.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<int?> PollAsync(CancellationToken cancellationToken = default) =>
        await WaitOnceAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false) is { } result ? SandboxResponses.ExitCode(result) : null;

    /// <summary>Waits for it to end and returns its exit code (137 after termination).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<int> WaitAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (await WaitOnceAsync(WaitLongPoll, cancellationToken).ConfigureAwait(false) is { } result)
            {
                return SandboxResponses.ExitCode(result);
            }
        }
    }

    /// <summary>Stops the sidecar and everything in it; the sandbox runs on. Terminating an ended sidecar does nothing.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task TerminateAsync(CancellationToken cancellationToken = default)
    {
        var request = new TaskContainerTerminateRequest
        {
            TaskId = await _sandbox.Connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false),
            ContainerId = ContainerId,
        };
        await _sandbox.Connection.Router.CallAsync("TaskContainerTerminate", static (c, r, o) => c.TaskContainerTerminateAsync(r, o), request, cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task<GenericResult?> WaitOnceAsync(TimeSpan longPoll, CancellationToken cancellationToken)
    {
        if (_result is not null)
        {
            return _result;
        }

        var request = new TaskContainerWaitRequest
        {
            TaskId = await _sandbox.Connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false),
            ContainerId = ContainerId,
            Timeout = (float)longPoll.TotalSeconds,
        };
        var response = await _sandbox.Connection.Router.CallAsync("TaskContainerWait", static (c, r, o) => c.TaskContainerWaitAsync(r, o), request, cancellationToken)
            .ConfigureAwait(false);
        if (response.Result is { Status: not GenericResult.Types.GenericStatus.Unspecified } result)
        {
            _result = result;
        }

        return _result;
    }

    /// <inheritdoc/>
    public override string ToString() => $"Sidecar {Name} ({ContainerId})";
}
