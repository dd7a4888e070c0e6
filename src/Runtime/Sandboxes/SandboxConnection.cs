using Microsoft.Extensions.Logging;
using TypedSandbox.Transport;

namespace TypedSandbox.Sandboxes;

/// <summary>
/// What a sandbox handle shares with its processes and files: the client, the protocol family that serves the
/// sandbox (chosen once, by the shape of its id), the sandbox's task id and its command router.
/// </summary>
internal sealed class SandboxConnection : IAsyncDisposable
{
    private static readonly TimeSpan TaskPollInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan TaskWaitLimit = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _taskGate = new(1, 1);
    private string? _taskId;
    private CommandRouter? _router;

    /// <param name="client">The client the sandbox was reached through.</param>
    /// <param name="sandboxId">The sandbox id.</param>
    /// <param name="taskId">The task id, when the create response carried it.</param>
    /// <param name="routerAccess">Router access handed out with the create response, if any.</param>
    public SandboxConnection(SandboxClient client, string sandboxId, string? taskId, RouterAccess? routerAccess)
    {
        Client = client;
        SandboxId = sandboxId;
        _taskId = taskId;
        Logger = client.LoggerFactory.CreateLogger("TypedSandbox.Sandbox");
        Protocol = SandboxIds.IsV1(sandboxId) ? new V1Protocol(this) : new V2Protocol(this);
        _router = new CommandRouter(Protocol.FetchRouterAccessAsync, routerAccess, client.Settings.IsLoopbackServer, client.LoggerFactory,
            client.Time, client.ControlPlane.WrapHandler, client.Settings.TrustedCertificateAuthorities);
    }

    /// <summary>The client the sandbox was reached through.</summary>
    public SandboxClient Client { get; }

    /// <summary>The sandbox id.</summary>
    public string SandboxId { get; }

    /// <summary>The RPC family that serves this sandbox.</summary>
    public ISandboxProtocol Protocol { get; }

    /// <summary>The sandbox's logger.</summary>
    public ILogger Logger { get; }

    /// <summary>The message of NOT_FOUND answers about this sandbox.</summary>
    public string NotFoundMessage => $"Sandbox '{SandboxId}' not found";

    /// <summary>The sandbox's command router; throws once the handle is detached or disposed.</summary>
    public CommandRouter Router => _router ?? throw new ObjectDisposedException(nameof(Sandbox), "Unable to perform operation on a detached sandbox.");

    /// <summary>The task id (the sandbox's running container), polled for until the sandbox is scheduled.</summary>
    public async Task<string> GetTaskIdAsync(CancellationToken cancellationToken)
    {
        if (_taskId is { } known)
        {
            return known;
        }
        return await WaitForTaskAsync(TaskWaitLimit, TaskPollInterval, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Polls for the task id for at most <paramref name="limit"/>.</summary>
    /// <exception cref="SandboxTerminatedException">The sandbox finished before it got a task.</exception>
    /// <exception cref="SandboxTimeoutException">No task within <paramref name="limit"/>.</exception>
    public async Task<string> WaitForTaskAsync(TimeSpan limit, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        await _taskGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_taskId is { } known)
            {
                return known;
            }
            var giveUpAt = Client.Time.GetUtcNow() + limit;
            while (true)
            {
                var response = await Protocol.GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
                if (response.HasTaskId && response.TaskId.Length > 0)
                {
                    return _taskId = response.TaskId;
                }
                if (response.TaskResult is { } finished)
                {
                    throw new SandboxTerminatedException(finished.Exception.Length > 0
                        ? finished.Exception
                        : $"Sandbox {SandboxId} has already finished");
                }
                if (Client.Time.GetUtcNow() >= giveUpAt)
                {
                    throw new SandboxTimeoutException($"Timed out waiting for task ID for Sandbox {SandboxId}");
                }
                await Task.Delay(pollInterval, Client.Time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _taskGate.Release();
        }
    }

    /// <summary>Closes the command router's connection; later router calls throw <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeRouterAsync()
    {
        var router = _router;
        _router = null;
        if (router is not null)
        {
            await router.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await DisposeRouterAsync().ConfigureAwait(false);
        _taskGate.Dispose();
    }
}
