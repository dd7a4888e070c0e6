using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// Sandboxes started ahead of demand: per <see cref="WarmPoolKey"/> (image, limits, network) a few containers whose
/// agent is up and which run no user process. A create that matches claims one instead of starting a container, and
/// the pool refills in the background, one start at a time so refills never crowd out the creates they serve.
/// </summary>
/// <remarks>
/// A key is learned from the creates the engine serves: after a sandbox of a poolable shape started cold, the pool
/// keeps <see cref="WarmPoolOptions.SizePerKey"/> of that shape ready. Each pooled container serves one sandbox only
/// and is never returned: a claimed sandbox starts from the image as a cold one does. The pool holds at most
/// <see cref="WarmPoolOptions.MaxKeys"/> shapes (the least recently claimed is dropped) and never more containers than
/// half the host's memory holds at their memory limits.
/// </remarks>
internal sealed partial class WarmPool : IAsyncDisposable
{
    private readonly IContainerRuntime _runtime;
    private readonly WarmPoolOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<WarmPoolKey, Shape> _shapes = [];
    private readonly SemaphoreSlim _refills = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _running = [];
    private long _useCounter;
    private bool _disposed;

    public WarmPool(IContainerRuntime runtime, WarmPoolOptions options, TimeProvider clock, ILogger logger)
    {
        _runtime = runtime;
        _options = options;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>True when the pool keeps sandboxes at all.</summary>
    public bool Enabled => _options.SizePerKey > 0;

    /// <summary>How many started containers wait in the pool now (all shapes).</summary>
    public int ReadyCount
    {
        get
        {
            lock (_gate)
            {
                return _shapes.Values.Sum(s => s.Ready.Count);
            }
        }
    }

    /// <summary>How many started containers of <paramref name="key"/>'s shape wait in the pool now.</summary>
    public int CountReady(WarmPoolKey key)
    {
        lock (_gate)
        {
            return _shapes.TryGetValue(key, out var shape) ? shape.Ready.Count : 0;
        }
    }

    /// <summary>The ids of the containers waiting in the pool now (tests check a create claimed one of them).</summary>
    public IReadOnlyList<string> ReadyIds
    {
        get
        {
            lock (_gate)
            {
                return [.. _shapes.Values.SelectMany(s => s.Ready).Select(c => c.Id)];
            }
        }
    }

    /// <summary>
    /// Takes a ready container of <paramref name="key"/>'s shape, or returns null (no such shape kept, or none ready
    /// yet). The caller owns what it gets; a refill is started.
    /// </summary>
    public IRunningContainer? TryClaim(WarmPoolKey key)
    {
        if (!Enabled)
        {
            return null;
        }

        List<IRunningContainer> dead = [];
        IRunningContainer? claimed = null;
        lock (_gate)
        {
            if (_disposed || !_shapes.TryGetValue(key, out var shape))
            {
                return null;
            }

            shape.LastUse = ++_useCounter;
            while (shape.Ready.Count > 0)
            {
                var candidate = shape.Ready.Dequeue();
                if (candidate.Exited.IsCompleted)
                {
                    dead.Add(candidate);
                    continue;
                }

                claimed = candidate;
                break;
            }
        }

        DisposeInBackground(dead);
        Refill(key, _options.RefillDelay);
        if (claimed is not null)
        {
            LogClaimed(claimed.Id);
        }

        return claimed;
    }

    /// <summary>
    /// Remembers a shape a sandbox just started cold with (<paramref name="template"/>: its container spec without
    /// environment, working directory or entrypoint; the id is replaced per pooled container) and fills its pool.
    /// </summary>
    public void Learn(WarmPoolKey key, ContainerSpec template)
    {
        if (!Enabled)
        {
            return;
        }

        Shape? dropped = null;
        lock (_gate)
        {
            if (_disposed || _shapes.ContainsKey(key))
            {
                return;
            }

            if (_shapes.Count >= _options.MaxKeys)
            {
                var oldest = _shapes.MinBy(s => s.Value.LastUse);
                _shapes.Remove(oldest.Key);
                dropped = oldest.Value;
            }

            _shapes[key] = new Shape(template with { Env = new Dictionary<string, string>(), Workdir = null, Entrypoint = null })
            {
                LastUse = ++_useCounter,
            };
        }

        if (dropped is not null)
        {
            DisposeInBackground([.. dropped.Ready]);
        }

        Refill(key, TimeSpan.Zero);
    }

    /// <summary>Drops every pooled container of image <paramref name="imageId"/> (the image is going away).</summary>
    public void Forget(string imageId)
    {
        List<IRunningContainer> dropped = [];
        lock (_gate)
        {
            foreach (var key in _shapes.Keys.Where(k => k.ImageId == imageId).ToList())
            {
                dropped.AddRange(_shapes[key].Ready);
                _shapes.Remove(key);
            }
        }

        DisposeInBackground(dropped);
    }

    private void Refill(WarmPoolKey key, TimeSpan delay)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _running.RemoveAll(t => t.IsCompleted);
            _running.Add(RefillAsync(key, delay, _stopping.Token));
        }
    }

    private async Task RefillAsync(WarmPoolKey key, TimeSpan delay, CancellationToken ct)
    {
        await Task.Yield();
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _clock, ct).ConfigureAwait(false);
            }

            await _refills.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            while (!ct.IsCancellationRequested && NextToStart(key) is { } spec)
            {
                IRunningContainer container;
                try
                {
                    container = await _runtime.StartAsync(spec, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception)
                {
                    // A shape that cannot start now (host full, image gone) is forgotten; the next cold create of it
                    // teaches it again.
                    LogRefillFailed(exception, key.ImageId);
                    Drop(key);
                    return;
                }

                if (!Keep(key, container))
                {
                    await container.DisposeAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        finally
        {
            _refills.Release();
        }
    }

    private ContainerSpec? NextToStart(WarmPoolKey key)
    {
        lock (_gate)
        {
            if (_disposed || !_shapes.TryGetValue(key, out var shape) || shape.Ready.Count >= _options.SizePerKey)
            {
                return null;
            }

            var pooledMiB = _shapes.Values.Sum(s => s.Ready.Count * s.MemoryMiB);
            if (pooledMiB + shape.MemoryMiB > _options.MemoryBudgetMiB)
            {
                return null;
            }

            return shape.Template with { Id = NewTaskId() };
        }
    }

    private bool Keep(WarmPoolKey key, IRunningContainer container)
    {
        lock (_gate)
        {
            if (_disposed || !_shapes.TryGetValue(key, out var shape))
            {
                return false;
            }

            shape.Ready.Enqueue(container);
            return true;
        }
    }

    private void Drop(WarmPoolKey key)
    {
        List<IRunningContainer> dropped = [];
        lock (_gate)
        {
            if (_shapes.Remove(key, out var shape))
            {
                dropped.AddRange(shape.Ready);
            }
        }

        DisposeInBackground(dropped);
    }

    private void DisposeInBackground(List<IRunningContainer> containers)
    {
        if (containers.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            _running.Add(Task.WhenAll(containers.Select(c => c.DisposeAsync().AsTask())));
        }
    }

    /// <summary>A task id for a pooled container: the id its sandbox's task will have once claimed.</summary>
    public static string NewTaskId() => "ta-" + ObjectIds.Random(22);

    /// <summary>Stops refilling and terminates every pooled container; returns when they are gone.</summary>
    public async ValueTask DisposeAsync()
    {
        List<IRunningContainer> pooled;
        Task[] running;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            pooled = [.. _shapes.Values.SelectMany(s => s.Ready)];
            _shapes.Clear();
            running = [.. _running];
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(running.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        await Task.WhenAll(pooled.Select(c => c.DisposeAsync().AsTask())).ConfigureAwait(false);
        _stopping.Dispose();
        _refills.Dispose();
    }

    private sealed class Shape(ContainerSpec template)
    {
        public ContainerSpec Template { get; } = template;

        public long MemoryMiB { get; } = Math.Max(1, (template.Limits.MemoryBytes ?? ResourceLimits.Default.MemoryBytes ?? 0) / (1024 * 1024));

        public Queue<IRunningContainer> Ready { get; } = new();

        public long LastUse { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Warm pool: container {ContainerId} claimed")]
    private partial void LogClaimed(string containerId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Warm pool: a sandbox of image {ImageId} could not be started ahead; that shape is no longer kept")]
    private partial void LogRefillFailed(Exception exception, string imageId);
}
