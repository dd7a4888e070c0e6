namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Keeps one open network ready (<see cref="SandboxNetwork.Ahead"/>) for the next sandbox that asks for one. slirp4netns
/// takes ~17 ms from its start to a configured tap0 on this kind of host (two program starts, its seccomp filter, its
/// sandbox, the interface); made ahead, that time is no longer part of a create. Only the network is made ahead: the
/// namespace is empty and slirp4netns knows nothing of the sandbox, which gets its policy, its cgroups and its name at
/// the claim. Filled a moment (<see cref="ContainerRuntimeOptions.NetworkAheadDelay"/>) after the first open sandbox's
/// start, and again after each open start; a create that finds none ready makes its own, as before.
/// </summary>
/// <param name="options">The engine's runtime options.</param>
/// <param name="owner">The id range of the user namespace each network is made in (sandboxes that join it); null: the host's.</param>
/// <param name="logger">Where failures to make or claim one go.</param>
internal sealed partial class NetworkPool(ContainerRuntimeOptions options, SandboxIdRange? owner, ILogger logger) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposing = new();
    private SandboxNetwork.Ahead? _ready;
    private Task _filling = Task.CompletedTask;
    private bool _disposed;

    /// <summary>
    /// The ready network for <paramref name="spec"/>'s sandbox, or null (none ready). The caller calls <see cref="Refill"/>
    /// once its start is over: slirp4netns's start beside crun's would slow the very create the pool serves.
    /// </summary>
    public SandboxNetwork? TryClaim(ContainerSpec spec, CancellationToken ct)
    {
        SandboxNetwork.Ahead? ahead;
        lock (_gate)
        {
            ahead = _ready;
            _ready = null;
        }

        if (ahead is null)
        {
            return null;
        }

        if (!ahead.Usable)
        {
            _ = ahead.DisposeAsync().AsTask();
            return null;
        }

        try
        {
            return ahead.Claim(spec, options, ct);
        }
        catch (ContainerStartException e)
        {
            LogClaimFailed(e.Message);
            _ = ahead.DisposeAsync().AsTask();
            return null;
        }
    }

    /// <summary>True while a network is ready to be claimed.</summary>
    internal bool HasReady
    {
        get
        {
            lock (_gate)
            {
                return _ready is not null;
            }
        }
    }

    /// <summary>Starts making the next network ahead, unless one is ready or being made.</summary>
    public void Refill()
    {
        lock (_gate)
        {
            FillLocked();
        }
    }

    private void FillLocked()
    {
        if (_disposed || !options.OpenNetworkAhead || !_filling.IsCompleted)
        {
            return;
        }

        _filling = FillAsync();
    }

    private async Task FillAsync()
    {
        await Task.Yield();
        SandboxNetwork.Ahead ahead;
        try
        {
            // Not beside the start that asked for it: that sandbox's first commands come now (NetworkAheadDelay).
            await Task.Delay(options.NetworkAheadDelay, _disposing.Token).ConfigureAwait(false);
            ahead = await SandboxNetwork.Ahead.StartAsync(options, owner, logger, _disposing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ContainerStartException or IOException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            if (!_disposing.IsCancellationRequested)
            {
                LogFillFailed(e.Message);
            }

            return;
        }

        bool keep;
        lock (_gate)
        {
            keep = !_disposed && _ready is null;
            if (keep)
            {
                _ready = ahead;
            }
        }
        if (!keep)
        {
            await ahead.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops filling and ends the network kept ready.</summary>
    public async ValueTask DisposeAsync()
    {
        SandboxNetwork.Ahead? ahead;
        Task filling;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            ahead = _ready;
            _ready = null;
            filling = _filling;
        }
        await _disposing.CancelAsync().ConfigureAwait(false);
        await filling.ConfigureAwait(false);
        if (ahead is not null)
        {
            await ahead.DisposeAsync().ConfigureAwait(false);
        }

        _disposing.Dispose();
    }

    [LoggerMessage(EventId = 1015, Level = LogLevel.Warning, Message = "Making an open network ahead failed (creates make their own): {Error}")]
    private partial void LogFillFailed(string error);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Warning, Message = "Claiming the open network made ahead failed (this create makes its own): {Error}")]
    private partial void LogClaimFailed(string error);
}
