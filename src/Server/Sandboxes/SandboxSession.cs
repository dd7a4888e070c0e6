using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Tunnels;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>A sandbox the engine knows: its identity, its container while it runs, its execs and its result.</summary>
internal sealed class SandboxSession
{
    private readonly TaskCompletionSource<SandboxResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _finishClaimed;
    private readonly Lock _gate = new();
    private IReadOnlyDictionary<string, string> _tags;
    private long _lastActivityTicks;
    private uint _nextStdinIndex = 1;
    private long _stdinOffset;

    internal SandboxSession(string id, string taskId, SandboxSpec spec, DateTimeOffset createdAt)
    {
        Id = id;
        TaskId = taskId;
        Spec = spec;
        CreatedAt = createdAt;
        _tags = spec.Tags;
        _lastActivityTicks = createdAt.UtcTicks;
    }

    /// <summary>The sandbox id (<c>sb-…</c>).</summary>
    public string Id { get; }

    /// <summary>The id of the task running it (<c>ta-…</c>); the command router addresses sandboxes by task.</summary>
    public string TaskId { get; }

    /// <summary>What it was created with.</summary>
    public SandboxSpec Spec { get; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>The running container; null before it started and after it was torn down.</summary>
    public IRunningContainer? Container { get; internal set; }

    /// <summary>
    /// Completes when its start ended, either way, and never faults: then <see cref="Container"/> is set, or
    /// <see cref="StartError"/> says why it could not start (and <see cref="Result"/> is an init failure). A create
    /// returns before the start ends (as Modal's does); whatever needs the container waits for this first.
    /// </summary>
    public Task Started => _started.Task;

    /// <summary>Why the start failed; null while it starts and once it started.</summary>
    internal Exception? StartError { get; private set; }

    /// <summary>Ends the start: it succeeded when <paramref name="error"/> is null (the container is set by then).</summary>
    internal void EndStart(Exception? error = null)
    {
        StartError = error;
        _started.TrySetResult();
    }

    /// <summary>Waits for the start to end (see <see cref="Started"/>); returns the session for chaining.</summary>
    internal async Task<SandboxSession> StartedAsync(CancellationToken cancellationToken)
    {
        await Started.WaitAsync(cancellationToken).ConfigureAwait(false);
        return this;
    }

    /// <summary>Its tunnels (one per declared port) while it runs; null when it declared no ports.</summary>
    public SandboxTunnels? Tunnels { get; internal set; }

    /// <summary>The execs started in it, by the client's exec id.</summary>
    public SandboxExecs Execs { get; } = new();

    /// <summary>Its sidecar containers (terminated with it).</summary>
    internal Sidecars.SidecarSet Sidecars { get; } = new();

    /// <summary>Its system log (exec and filesystem lines when created with verbose).</summary>
    public SandboxLog Log { get; } = new();

    /// <summary>Completes with the result when the sandbox ends.</summary>
    public Task<SandboxResult> Completion => _completion.Task;

    /// <summary>The result, or null while it runs.</summary>
    public SandboxResult? Result => _completion.Task.IsCompletedSuccessfully ? _completion.Task.Result : null;

    /// <summary>The current tags.</summary>
    public IReadOnlyDictionary<string, string> Tags
    {
        get { lock (_gate) { return _tags; } }
        set { lock (_gate) { _tags = value; } }
    }

    /// <summary>When something last happened in it (an exec, stdin, a tunnel connection).</summary>
    public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

    /// <summary>Records activity now, which resets the idle timer (the engine core calls it; see <see cref="SandboxManager"/>).</summary>
    internal void Touch(DateTimeOffset now) => Interlocked.Exchange(ref _lastActivityTicks, now.UtcTicks);

    /// <summary>True while something keeps it from idling: a running exec or an open tunnel connection.</summary>
    public bool IsActive => Execs.HasRunning || Tunnels?.HasOpenConnection == true;

    /// <summary>
    /// The running container, or FAILED_PRECONDITION once the sandbox finished (or while it still starts: callers wait
    /// for <see cref="Started"/> first, so that one only reaches a caller that forgot to).
    /// </summary>
    internal IRunningContainer RequireRunning()
    {
        RequireNotFinished();
        return Container ?? throw EngineException.Precondition($"Sandbox {Id} is still starting.");
    }

    /// <summary>FAILED_PRECONDITION once the sandbox finished; a sandbox still starting passes.</summary>
    internal void RequireNotFinished()
    {
        if (Result is not null)
        {
            throw EngineException.Precondition($"Sandbox {Id} has already finished" + (StartError is null ? "." : ": " + Result.Message));
        }
    }

    /// <summary>True for the first caller only: that one records the result and then publishes it.</summary>
    internal bool TryClaimFinish() => Interlocked.Exchange(ref _finishClaimed, 1) == 0;

    internal void PublishResult(SandboxResult result) => _completion.TrySetResult(result);

    /// <summary>Frees its execs' output and its container (after it finished and its output was retained long enough).</summary>
    internal async Task DisposeAsync()
    {
        await Execs.DisposeAllAsync().ConfigureAwait(false);
        if (Container is { } container)
        {
            await container.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The V1 entrypoint-stdin numbering (next write index, stream offset), to carry across a handover.</summary>
    internal (uint NextIndex, long Offset) StdinNumbering
    {
        get { lock (_gate) { return (_nextStdinIndex, _stdinOffset); } }
        set { lock (_gate) { (_nextStdinIndex, _stdinOffset) = value; } }
    }

    /// <summary>
    /// Turns the V1 entrypoint-stdin protocol (numbered writes) into offsets: returns the offset of write
    /// <paramref name="index"/>, or null when that write was already applied (a client retry).
    /// </summary>
    internal long? ClaimStdinIndex(uint index, int length)
    {
        lock (_gate)
        {
            if (index < _nextStdinIndex)
            {
                return null;
            }

            var offset = _stdinOffset;
            _nextStdinIndex = index + 1;
            _stdinOffset += length;
            return offset;
        }
    }
}
