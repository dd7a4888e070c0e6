using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Sandboxes;
using TypedSandbox.Telemetry;
using TypedSandbox.Transport;

namespace TypedSandbox;

/// <summary>
/// A handle to a running (or finished) sandbox. Disposing the handle terminates the sandbox; use
/// <see cref="DetachAsync"/> to let it run on. Which RPCs serve the handle follows Modal's rule: the shape of the id.
/// </summary>
public sealed class Sandbox : IAsyncDisposable
{
    private static readonly TimeSpan TaskPollInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan TaskWaitLimit = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan WaitLongPoll = TimeSpan.FromSeconds(10);

    private readonly SandboxClient _client;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _taskGate = new(1, 1);
    private readonly Lazy<SandboxOutputStream> _stdout;
    private readonly Lazy<SandboxOutputStream> _stderr;
    private readonly Lazy<SandboxInputStream> _stdin;
    private string? _taskId;
    private IReadOnlyDictionary<int, Tunnel>? _tunnels;
    private CommandRouter? _router;
    private bool _detached;

    internal Sandbox(SandboxClient client, string id, string? taskId, RouterAccess? routerAccess, IReadOnlyDictionary<int, Tunnel>? tunnels)
    {
        _client = client;
        SandboxId = id;
        IsV1 = SandboxIds.IsV1(id);
        _taskId = taskId;
        _tunnels = tunnels;
        _logger = client.LoggerFactory.CreateLogger("TypedSandbox.Sandbox");
        _router = new CommandRouter(FetchRouterAccessAsync, routerAccess, client.Settings.IsLoopbackServer, client.LoggerFactory, client.Time,
            client.ControlPlane.WrapHandler, client.Settings.TrustedCertificateAuthorities);
        _stdout = new(() => OpenEntrypointOutput(stderr: false));
        _stderr = new(() => OpenEntrypointOutput(stderr: true));
        _stdin = new(OpenEntrypointInput);
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

    internal bool IsV1 { get; }

    internal SandboxClient Client => _client;

    /// <summary>Starts a process in the sandbox. Returns at once; read its output and wait on the returned process.</summary>
    /// <param name="command">The program and its arguments (no shell is involved).</param>
    /// <param name="options">Timeout, working directory, environment and output handling.</param>
    /// <param name="cancellationToken">Cancels starting the process (not the process itself).</param>
    /// <exception cref="InvalidArgumentException">The command or an option is not valid.</exception>
    /// <exception cref="SandboxTerminatedException">The sandbox has already finished.</exception>
    public async Task<ContainerProcess> ExecAsync(IReadOnlyList<string> command, ExecOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        options ??= new ExecOptions();
        var request = ContainerProcess.BuildStartRequest(command, options);
        var executable = Instruments.ExecutableName(command[0]);
        // Stopped by the process when its exit is seen (or its handle disposed), so it spans the process's life.
        var activity = Instruments.Source.StartActivity(SandboxTelemetry.ExecActivity, ActivityKind.Client);
        activity?.SetTag(SandboxTelemetry.SandboxIdTag, SandboxId);
        activity?.SetTag(SandboxTelemetry.ExecIdTag, request.ExecId);
        activity?.SetTag(SandboxTelemetry.ExecutableTag, executable);
        try
        {
            var taskId = await GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
            request.TaskId = taskId;
            var started = _client.Time.GetUtcNow();
            await Router.CallAsync("TaskExecStart", static (c, r, o) => c.TaskExecStartAsync(r, o), request, cancellationToken).ConfigureAwait(false);
            Log.ExecStarted(_logger, request.ExecId, SandboxId);
            return new ContainerProcess(this, taskId, request.ExecId, options, started, new ExecTelemetry(activity, executable));
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
            var response = await WaitCallAsync(WaitLongPoll, cancellationToken).ConfigureAwait(false);
            if (response.Result is { Status: not GenericResult.Types.GenericStatus.Unspecified } result)
            {
                return SandboxDefinition.ExitCode(result);
            }
        }
    }

    /// <summary>Returns the exit code if the sandbox has finished, otherwise null.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">No sandbox has this id.</exception>
    public async Task<int?> PollAsync(CancellationToken cancellationToken = default)
    {
        var response = await WaitCallAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        return response.Result is { Status: not GenericResult.Types.GenericStatus.Unspecified } result
            ? SandboxDefinition.ExitCode(result)
            : null;
    }

    /// <summary>Terminates the sandbox and every process in it. Terminating a finished sandbox does nothing.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task TerminateAsync(CancellationToken cancellationToken = default)
    {
        var request = new SandboxTerminateRequest { SandboxId = SandboxId };
        if (IsV1)
        {
            await _client.ControlPlane.CallAsync("SandboxTerminate", static (c, r, o) => c.SandboxTerminateAsync(r, o), request, cancellationToken,
                notFoundMessage: NotFoundMessage).ConfigureAwait(false);
        }
        else
        {
            await _client.ControlPlane.CallAsync("SandboxTerminateV2", static (c, r, o) => c.SandboxTerminateV2Async(r, o), request, cancellationToken,
                notFoundMessage: NotFoundMessage).ConfigureAwait(false);
        }
    }

    /// <summary>Replaces the sandbox's tags.</summary>
    /// <param name="tags">The new tags (an empty map clears them).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task SetTagsAsync(IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        SandboxOptionRules.CheckTags(tags);
        var request = new SandboxTagsSetRequest { SandboxId = SandboxId };
        request.Tags.Add(SandboxDefinition.Tags(tags));
        if (IsV1)
        {
            request.EnvironmentName = _client.Environment;
            await _client.ControlPlane.CallAsync("SandboxTagsSet", static (c, r, o) => c.SandboxTagsSetAsync(r, o), request, cancellationToken,
                notFoundMessage: NotFoundMessage).ConfigureAwait(false);
        }
        else
        {
            await _client.ControlPlane.CallAsync("SandboxTagsSetV2", static (c, r, o) => c.SandboxTagsSetV2Async(r, o), request, cancellationToken,
                notFoundMessage: NotFoundMessage).ConfigureAwait(false);
        }
    }

    /// <summary>Returns the sandbox's tags.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyDictionary<string, string>> GetTagsAsync(CancellationToken cancellationToken = default)
    {
        var request = new SandboxTagsGetRequest { SandboxId = SandboxId };
        var response = IsV1
            ? await _client.ControlPlane.CallAsync("SandboxTagsGet", static (c, r, o) => c.SandboxTagsGetAsync(r, o), request, cancellationToken,
                notFoundMessage: NotFoundMessage).ConfigureAwait(false)
            : await _client.ControlPlane.CallAsync("SandboxTagsGetV2", static (c, r, o) => c.SandboxTagsGetV2Async(r, o), request, cancellationToken,
                notFoundMessage: NotFoundMessage).ConfigureAwait(false);
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in response.Tags)
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
        var request = new SandboxGetTunnelsRequest { SandboxId = SandboxId, Timeout = (float)(timeout ?? TimeSpan.FromSeconds(50)).TotalSeconds };
        var response = IsV1
            ? await _client.ControlPlane.CallAsync("SandboxGetTunnels", static (c, r, o) => c.SandboxGetTunnelsAsync(r, o), request, cancellationToken,
                notFoundMessage: NotFoundMessage).ConfigureAwait(false)
            : await _client.ControlPlane.CallAsync("SandboxGetTunnelsV2", static (c, r, o) => c.SandboxGetTunnelsV2Async(r, o), request, cancellationToken,
                notFoundMessage: NotFoundMessage).ConfigureAwait(false);
        if (response.Result is { Status: GenericResult.Types.GenericStatus.Timeout })
        {
            throw new SandboxTimeoutException("Sandbox operation timed out");
        }
        return _tunnels = ToTunnels(response.Tunnels);
    }

    /// <summary>Saves the sandbox's filesystem as a new image that later sandboxes can start from.</summary>
    /// <param name="timeout">How long to wait for the snapshot; 55 s by default.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="SandboxTimeoutException">The snapshot did not finish in time.</exception>
    public async Task<Image> SnapshotFilesystemAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var budget = timeout ?? TimeSpan.FromSeconds(55);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            var taskId = await GetTaskIdAsync(deadline.Token).ConfigureAwait(false);
            var request = new TaskSnapshotFilesystemRequest
            {
                TaskId = taskId,
                SnapshotId = Guid.NewGuid().ToString(),
                TtlSeconds = 30L * 24 * 3600,
            };
            var response = await Router.CallAsync("TaskSnapshotFilesystem", static (c, r, o) => c.TaskSnapshotFilesystemAsync(r, o),
                request, deadline.Token).ConfigureAwait(false);
            if (response.ImageId.Length == 0)
            {
                throw new SandboxException("Sandbox snapshot filesystem response missing `imageId`");
            }
            return _client.Images.FromBuiltId(response.ImageId);
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
        var start = _client.Time.GetUtcNow();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            var taskId = await GetTaskIdAsync(deadline.Token).ConfigureAwait(false);
            var remaining = budget - (_client.Time.GetUtcNow() - start);
            await Router.CallAsync("SandboxWaitUntilReady", static (c, r, o) => c.SandboxWaitUntilReadyAsync(r, o),
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
        await DisposeRouterAsync().ConfigureAwait(false);
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
                Log.TerminateOnDisposeFailed(_logger, e, SandboxId);
            }
            catch (ObjectDisposedException)
            {
                // The client was disposed first; the sandbox ends at its own timeout.
            }
        }
        await DisposeStreamsAsync().ConfigureAwait(false);
        await DisposeRouterAsync().ConfigureAwait(false);
        _taskGate.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"Sandbox {SandboxId}";

    internal CommandRouter Router => _router ?? throw new ObjectDisposedException(nameof(Sandbox), "Unable to perform operation on a detached sandbox.");

    internal async ValueTask DisposeRouterAsync()
    {
        var router = _router;
        _router = null;
        if (router is not null)
        {
            await router.DisposeAsync().ConfigureAwait(false);
        }
    }

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

    private string NotFoundMessage => $"Sandbox '{SandboxId}' not found";

    private Task<SandboxWaitResponse> WaitCallAsync(TimeSpan longPoll, CancellationToken cancellationToken)
    {
        var request = new SandboxWaitRequest { SandboxId = SandboxId, Timeout = (float)longPoll.TotalSeconds };
        var attemptTimeout = longPoll + TimeSpan.FromSeconds(20);
        return IsV1
            ? _client.ControlPlane.CallAsync("SandboxWait", static (c, r, o) => c.SandboxWaitAsync(r, o), request, cancellationToken,
                attemptTimeout, NotFoundMessage)
            : _client.ControlPlane.CallAsync("SandboxWaitV2", static (c, r, o) => c.SandboxWaitV2Async(r, o), request, cancellationToken,
                attemptTimeout, NotFoundMessage);
    }

    /// <summary>The task id (the sandbox's running container), polled for until the sandbox is scheduled.</summary>
    internal async Task<string> GetTaskIdAsync(CancellationToken cancellationToken)
    {
        if (_taskId is { } known)
        {
            return known;
        }
        return await WaitForTaskAsync(TaskWaitLimit, TaskPollInterval, cancellationToken).ConfigureAwait(false);
    }

    internal async Task<string> WaitForTaskAsync(TimeSpan limit, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        await _taskGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_taskId is { } known)
            {
                return known;
            }
            var giveUpAt = _client.Time.GetUtcNow() + limit;
            var request = new SandboxGetTaskIdRequest { SandboxId = SandboxId };
            while (true)
            {
                var response = IsV1
                    ? await _client.ControlPlane.CallAsync("SandboxGetTaskId", static (c, r, o) => c.SandboxGetTaskIdAsync(r, o), request,
                        cancellationToken, notFoundMessage: NotFoundMessage).ConfigureAwait(false)
                    : await _client.ControlPlane.CallAsync("SandboxGetTaskIdV2", static (c, r, o) => c.SandboxGetTaskIdV2Async(r, o), request,
                        cancellationToken, notFoundMessage: NotFoundMessage).ConfigureAwait(false);
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
                if (_client.Time.GetUtcNow() >= giveUpAt)
                {
                    throw new SandboxTimeoutException($"Timed out waiting for task ID for Sandbox {SandboxId}");
                }
                await Task.Delay(pollInterval, _client.Time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _taskGate.Release();
        }
    }

    private async Task<RouterAccess> FetchRouterAccessAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (IsV1)
            {
                var taskId = await GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
                var response = await _client.ControlPlane.CallAsync("TaskGetCommandRouterAccess",
                    static (c, r, o) => c.TaskGetCommandRouterAccessAsync(r, o),
                    new TaskGetCommandRouterAccessRequest { TaskId = taskId }, cancellationToken).ConfigureAwait(false);
                return new RouterAccess(response.Url, response.Jwt);
            }
            else
            {
                var response = await _client.ControlPlane.CallAsync("SandboxGetCommandRouterAccess",
                    static (c, r, o) => c.SandboxGetCommandRouterAccessAsync(r, o),
                    new SandboxGetCommandRouterAccessRequest { SandboxId = SandboxId }, cancellationToken,
                    notFoundMessage: NotFoundMessage).ConfigureAwait(false);
                return new RouterAccess(response.Url, response.Jwt);
            }
        }
        catch (ConflictException e)
        {
            throw new SandboxException("Command router access is not available for this sandbox", e);
        }
    }

    private SandboxOutputStream OpenEntrypointOutput(bool stderr)
    {
        var name = $"{(stderr ? "stderr" : "stdout")} of {SandboxId}";
        ResumableByteSource source;
        if (IsV1)
        {
            var fd = stderr ? FileDescriptor.Stderr : FileDescriptor.Stdout;
            source = new ResumableByteSource(
                (position, ct) => ReadLogsV1Async(fd, position.Cursor ?? "0-0", ct),
                "0-0", RetryPolicy.CommandRouter, null, endWhenStreamCompletes: false, name, _client.Time, _logger);
        }
        else
        {
            var fd = stderr ? SandboxStdioFileDescriptor.Stderr : SandboxStdioFileDescriptor.Stdout;
            source = new ResumableByteSource(
                (position, ct) => ReadStdioV2Async(fd, position.Offset, ct),
                null, RetryPolicy.CommandRouter, ct => Router.RenewAccessAsync(ct), endWhenStreamCompletes: true, name, _client.Time, _logger);
        }
        return new SandboxOutputStream(new CountingByteSource(source, stderr ? "stderr" : "stdout"), e => ContainerProcess.TranslateStreamError(e, name));
    }

    private async IAsyncEnumerable<StreamChunk> ReadLogsV1Async(FileDescriptor fd, string lastEntryId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new SandboxGetLogsRequest { SandboxId = SandboxId, FileDescriptor = fd, Timeout = 55, LastEntryId = lastEntryId };
        await foreach (var batch in _client.ControlPlane.StreamAsync(static (c, r, o) => c.SandboxGetLogs(r, o), request, cancellationToken).ConfigureAwait(false))
        {
            var text = string.Concat(batch.Items.Select(i => i.Data));
            yield return new StreamChunk(System.Text.Encoding.UTF8.GetBytes(text), Cursor: batch.EntryId, EndOfStream: batch.Eof);
        }
    }

    private async IAsyncEnumerable<StreamChunk> ReadStdioV2Async(SandboxStdioFileDescriptor fd, long offset,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var taskId = await GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
        var request = new SandboxStdioReadV2Request { TaskId = taskId, Offset = (ulong)offset, FileDescriptor = fd };
        await foreach (var message in Router.StreamAsync(static (c, r, o) => c.SandboxStdioReadV2(r, o), request, cancellationToken).ConfigureAwait(false))
        {
            yield return new StreamChunk(message.Data.Memory, (long)message.StartingOffset);
        }
    }

    private SandboxInputStream OpenEntrypointInput()
    {
        IByteSink sink = new CountingByteSink(IsV1 ? new EntrypointStdinV1(this) : new EntrypointStdinV2(this), "stdin");
        return new SandboxInputStream(sink, e => ContainerProcess.TranslateStreamError(e, $"stdin of {SandboxId}"));
    }

    internal static IReadOnlyDictionary<int, Tunnel> ToTunnels(RepeatedField<TunnelData> tunnels) =>
        tunnels.ToDictionary(
            t => (int)t.ContainerPort,
            t => new Tunnel((int)t.ContainerPort, t.Host, (int)t.Port,
                t.HasUnencryptedHost ? t.UnencryptedHost : null,
                t.HasUnencryptedPort ? (int)t.UnencryptedPort : null));

    /// <summary>V1 entrypoint stdin: numbered writes on the control plane.</summary>
    private sealed class EntrypointStdinV1(Sandbox sandbox) : IByteSink
    {
        private uint _index;

        public async Task WriteAsync(ReadOnlyMemory<byte> data, bool endOfInput, CancellationToken cancellationToken)
        {
            var request = new SandboxStdinWriteRequest { SandboxId = sandbox.SandboxId, Index = _index + 1, Eof = endOfInput, Input = ByteString.CopyFrom(data.Span) };
            await sandbox._client.ControlPlane.CallAsync("SandboxStdinWrite", static (c, r, o) => c.SandboxStdinWriteAsync(r, o), request,
                cancellationToken).ConfigureAwait(false);
            _index++;
        }
    }

    /// <summary>V2 entrypoint stdin: offset-addressed writes on the command router.</summary>
    private sealed class EntrypointStdinV2(Sandbox sandbox) : IByteSink
    {
        private ulong _offset;

        public async Task WriteAsync(ReadOnlyMemory<byte> data, bool endOfInput, CancellationToken cancellationToken)
        {
            var taskId = await sandbox.GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
            var request = new SandboxStdinWriteV2Request { TaskId = taskId, Offset = _offset, Eof = endOfInput, Data = ByteString.CopyFrom(data.Span) };
            await sandbox.Router.CallAsync("SandboxStdinWriteV2", static (c, r, o) => c.SandboxStdinWriteV2Async(r, o), request,
                cancellationToken).ConfigureAwait(false);
            _offset += (ulong)data.Length;
        }
    }
}
