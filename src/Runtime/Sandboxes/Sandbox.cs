using System.Diagnostics;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Sandboxes;
using TypedSandbox.Telemetry;
using TypedSandbox.Transport;

namespace TypedSandbox;

/// <summary>
/// A handle to a running (or finished) sandbox. Disposing the handle terminates the sandbox; use
/// <see cref="DetachAsync"/> to let it run on. Which RPCs serve the handle follows Modal's rule: the shape of the id.
/// </summary>
public sealed partial class Sandbox : IAsyncDisposable
{
    private static readonly TimeSpan WaitLongPoll = TimeSpan.FromSeconds(10);

    private readonly SandboxConnection _connection;
    private readonly Lazy<SandboxOutputStream> _stdout;
    private readonly Lazy<SandboxOutputStream> _stderr;
    private readonly Lazy<SandboxInputStream> _stdin;
    private IReadOnlyDictionary<int, Tunnel>? _tunnels;
    private bool _detached;

    internal Sandbox(SandboxClient client, string id, string? taskId, RouterAccess? routerAccess, IReadOnlyDictionary<int, Tunnel>? tunnels)
    {
        _connection = new SandboxConnection(client, id, taskId, routerAccess);
        SandboxId = id;
        _tunnels = tunnels;
        _stdout = new(() => OpenEntrypointOutput(stderr: false));
        _stderr = new(() => OpenEntrypointOutput(stderr: true));
        _stdin = new(() => new SandboxInputStream(new CountingByteSink(_connection.Protocol.OpenEntrypointInput(), "stdin")));
        Filesystem = new SandboxFilesystem(this);
    }

    /// <summary>The sandbox id.</summary>
    public string SandboxId { get; }

    /// <summary>The entrypoint's stdout (read from the start; kept on the server until read).</summary>
    public SandboxOutputStream Stdout => _stdout.Value;

    /// <summary>The entrypoint's stderr.</summary>
    public SandboxOutputStream Stderr => _stderr.Value;

    /// <summary>The entrypoint's stdin.</summary>
    public SandboxInputStream Stdin => _stdin.Value;

    /// <summary>Files inside the sandbox.</summary>
    public SandboxFilesystem Filesystem { get; }

    internal SandboxConnection Connection => _connection;

    internal SandboxClient Client => _connection.Client;

    /// <summary>Starts a process in the sandbox. Returns at once; read its output and wait on the returned process.</summary>
    /// <param name="command">The program and its arguments (no shell is involved).</param>
    /// <param name="options">Timeout, working directory, environment and output handling.</param>
    /// <param name="cancellationToken">Cancels starting the process (not the process itself).</param>
    /// <exception cref="InvalidArgumentException">The command or an option is not valid.</exception>
    /// <exception cref="SandboxTerminatedException">The sandbox has already finished.</exception>
    public Task<ContainerProcess> ExecAsync(IReadOnlyList<string> command, ExecOptions? options = null, CancellationToken cancellationToken = default) =>
        ExecInContainerAsync(null, command, options, cancellationToken);

    /// <summary>Starts a process in container <paramref name="containerId"/> of the sandbox (a sidecar; null = its main container).</summary>
    internal async Task<ContainerProcess> ExecInContainerAsync(string? containerId, IReadOnlyList<string> command, ExecOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        options ??= new ExecOptions();
        var request = ExecRequestBuilder.Build(command, options);
        request.ContainerId = containerId ?? "";
        var executable = Instruments.ExecutableName(command[0]);
        // Stopped by the process when its exit is seen (or its handle disposed), so it spans the process's life.
        var activity = Instruments.Source.StartActivity(SandboxTelemetry.ExecActivity, ActivityKind.Client);
        activity?.SetTag(SandboxTelemetry.SandboxIdTag, SandboxId);
        activity?.SetTag(SandboxTelemetry.ExecIdTag, request.ExecId);
        activity?.SetTag(SandboxTelemetry.ExecutableTag, executable);
        try
        {
            var taskId = await _connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
            request.TaskId = taskId;
            var started = Client.Time.GetUtcNow();
            await _connection.Router.CallAsync("TaskExecStart", static (c, r, o) => c.TaskExecStartAsync(r, o), request, cancellationToken).ConfigureAwait(false);
            Log.ExecStarted(_connection.Logger, request.ExecId, SandboxId);
            return new ContainerProcess(_connection, taskId, request.ExecId, options, started, new ExecTelemetry(activity, executable));
        }
        catch (Exception e)
        {
            Instruments.Fail(activity, e);
            activity?.Stop();
            throw;
        }
    }

    /// <summary>Runs a process to completion and returns its exit code and buffered output.</summary>
    /// <param name="command">The program and its arguments (no shell is involved).</param>
    /// <param name="options">Timeout, working directory, environment.</param>
    /// <param name="cancellationToken">Stops waiting (the process keeps running until its timeout).</param>
    /// <exception cref="ExecTimeoutException">The process ran past <see cref="ExecOptions.Timeout"/>.</exception>
    public async Task<ExecResult> RunAsync(IReadOnlyList<string> command, ExecOptions? options = null, CancellationToken cancellationToken = default)
    {
        await using var process = await ExecAsync(command, options, cancellationToken).ConfigureAwait(false);
        return await process.CollectAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the sandbox to finish and returns its exit code (124 after a timeout, 137 after termination).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<int> WaitAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (await _connection.Protocol.WaitAsync(WaitLongPoll, cancellationToken).ConfigureAwait(false) is { } result)
            {
                return SandboxResponses.ExitCode(result);
            }
        }
    }

    /// <summary>Returns the exit code if the sandbox has finished, otherwise null.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">No sandbox has this id.</exception>
    public async Task<int?> PollAsync(CancellationToken cancellationToken = default) =>
        await _connection.Protocol.WaitAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false) is { } result
            ? SandboxResponses.ExitCode(result)
            : null;

    /// <summary>Terminates the sandbox and every process in it. Terminating a finished sandbox does nothing.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task TerminateAsync(CancellationToken cancellationToken = default) => _connection.Protocol.TerminateAsync(cancellationToken);

    /// <summary>Replaces the sandbox's tags.</summary>
    /// <param name="tags">The new tags (an empty map clears them).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task SetTagsAsync(IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        SandboxOptionRules.CheckTags(tags);
        return _connection.Protocol.SetTagsAsync(SandboxRequestBuilder.Tags(tags), cancellationToken);
    }

    /// <summary>Returns the sandbox's tags.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyDictionary<string, string>> GetTagsAsync(CancellationToken cancellationToken = default)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in await _connection.Protocol.GetTagsAsync(cancellationToken).ConfigureAwait(false))
        {
            tags[tag.TagName] = tag.TagValue;
        }
        return tags;
    }

    /// <summary>Returns the sandbox's tunnels keyed by container port, waiting for them to be ready.</summary>
    /// <param name="timeout">How long the server may wait for the tunnels; 50 s by default.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SandboxTimeoutException">The tunnels were not ready in time.</exception>
    public async Task<IReadOnlyDictionary<int, Tunnel>> TunnelsAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (_tunnels is { } cached)
        {
            return cached;
        }
        var response = await _connection.Protocol.GetTunnelsAsync(timeout ?? TimeSpan.FromSeconds(50), cancellationToken).ConfigureAwait(false);
        return _tunnels = SandboxResponses.Tunnels(response);
    }

    /// <summary>Saves the sandbox's filesystem as a new image that later sandboxes can start from.</summary>
    /// <param name="timeout">How long to wait for the snapshot; 55 s by default.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="SandboxTimeoutException">The snapshot did not finish in time.</exception>
    /// <exception cref="ProtocolException">The server's answer named no image.</exception>
    public async Task<Image> SnapshotFilesystemAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var budget = timeout ?? TimeSpan.FromSeconds(55);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            var taskId = await _connection.GetTaskIdAsync(deadline.Token).ConfigureAwait(false);
            var request = new TaskSnapshotFilesystemRequest
            {
                TaskId = taskId,
                SnapshotId = Guid.NewGuid().ToString(),
                TtlSeconds = 30L * 24 * 3600,
            };
            var response = await _connection.Router.CallAsync("TaskSnapshotFilesystem", static (c, r, o) => c.TaskSnapshotFilesystemAsync(r, o),
                request, deadline.Token).ConfigureAwait(false);
            if (response.ImageId.Length == 0)
            {
                throw new ProtocolException("Sandbox snapshot filesystem response missing `imageId`");
            }
            return Client.Images.FromBuiltId(response.ImageId);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SandboxTimeoutException($"Snapshotting the filesystem of {SandboxId} did not finish within {budget}.", e);
        }
    }

    /// <summary>Waits until the sandbox's readiness probe passes.</summary>
    /// <param name="timeout">How long to wait; 5 minutes by default.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="SandboxTimeoutException">The sandbox was not ready in time.</exception>
    public async Task WaitUntilReadyAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var budget = timeout ?? TimeSpan.FromMinutes(5);
        var start = Client.Time.GetUtcNow();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            var taskId = await _connection.GetTaskIdAsync(deadline.Token).ConfigureAwait(false);
            var remaining = budget - (Client.Time.GetUtcNow() - start);
            await _connection.Router.CallAsync("SandboxWaitUntilReady", static (c, r, o) => c.SandboxWaitUntilReadyAsync(r, o),
                new SandboxWaitUntilReadyTcrRequest { TaskId = taskId, Timeout = (float)Math.Max(remaining.TotalSeconds, 0) },
                deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SandboxTimeoutException($"Sandbox {SandboxId} was not ready within {budget}.", e);
        }
    }

    /// <summary>Releases the handle's connections without terminating the sandbox; it runs on until its timeout.</summary>
    public async ValueTask DetachAsync()
    {
        _detached = true;
        await DisposeStreamsAsync().ConfigureAwait(false);
        await _connection.DisposeRouterAsync().ConfigureAwait(false);
    }

    /// <summary>Terminates the sandbox (unless detached) and releases the handle's connections.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_detached)
        {
            _detached = true;
            try
            {
                await TerminateAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (SandboxException e)
            {
                Log.TerminateOnDisposeFailed(_connection.Logger, e, SandboxId);
            }
            catch (ObjectDisposedException)
            {
                // The client was disposed first; the sandbox ends at its own timeout.
            }
        }
        await DisposeStreamsAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Sandbox {SandboxId}";

    private async ValueTask DisposeStreamsAsync()
    {
        if (_stdout.IsValueCreated)
        {
            await _stdout.Value.DisposeAsync().ConfigureAwait(false);
        }
        if (_stderr.IsValueCreated)
        {
            await _stderr.Value.DisposeAsync().ConfigureAwait(false);
        }
    }

    private SandboxOutputStream OpenEntrypointOutput(bool stderr)
    {
        var stream = stderr ? "stderr" : "stdout";
        var source = _connection.Protocol.OpenEntrypointOutput(stderr, $"{stream} of {SandboxId}");
        return new SandboxOutputStream(new CountingByteSource(source, stream));
    }
}
