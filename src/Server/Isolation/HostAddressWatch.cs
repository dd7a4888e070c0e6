using System.Collections.Concurrent;
using System.Net.NetworkInformation;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Keeps the host's own addresses closed to running open sandboxes when they change (<see cref="ClosedNetworks"/>): a
/// filter lists the addresses the host had when it was loaded, so an address the host gains later (an interface that
/// comes up, a VPN, a bridge another tool makes) would be reachable from every sandbox already running. On each change
/// the kernel reports (netlink, through <see cref="NetworkChange.NetworkAddressChanged"/>) the filter of every tracked
/// network is loaded again with the host's addresses of now. Between the change and the reload (milliseconds) the new
/// address is still open.
/// </summary>
internal sealed partial class HostAddressWatch : IAsyncDisposable
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(10);
    private readonly ConcurrentDictionary<SandboxNetwork, byte> _networks = new();
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly IReadOnlyList<string> _extraClosed;
    private readonly ILogger _logger;
    private int _pending;
    private Task _refresh = Task.CompletedTask;

    /// <param name="extraClosed">The operator's closed networks (<see cref="ContainerRuntimeOptions.ExtraClosedNetworks"/>).</param>
    /// <param name="logger">Where reloads and their failures go.</param>
    public HostAddressWatch(IReadOnlyList<string> extraClosed, ILogger logger)
    {
        _extraClosed = extraClosed;
        _logger = logger;
        NetworkChange.NetworkAddressChanged += OnAddressChanged;
    }

    /// <summary>Reloads <paramref name="network"/>'s filter on the host's next address changes, until it is disposed.</summary>
    public void Track(SandboxNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!network.IsOpen || _stopping.IsCancellationRequested)
        {
            return;
        }

        _networks.TryAdd(network, 0);
        network.Untrack = () => _networks.TryRemove(network, out _);
    }

    /// <summary>The networks tracked now (tests).</summary>
    internal int Count => _networks.Count;

    /// <summary>Reloads every tracked filter whose closed addresses differ from the host's of now (also called by tests).</summary>
    internal async Task RefreshAsync(CancellationToken ct)
    {
        await _refreshing.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var closed = ClosedNetworks.Current(_extraClosed);
            foreach (var network in _networks.Keys)
            {
                try
                {
                    if (await network.RefreshClosedAsync(closed, ct).ConfigureAwait(false))
                    {
                        LogReloaded(network.NamespaceName ?? "?", closed.Count);
                    }
                }
                catch (Exception e) when (e is ContainerStartException or IOException or ObjectDisposedException or System.ComponentModel.Win32Exception)
                {
                    LogReloadFailed(network.NamespaceName ?? "?", e.Message);
                }
            }
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private void OnAddressChanged(object? sender, EventArgs e)
    {
        // One reload for a burst of changes (an interface coming up reports several).
        if (Interlocked.Exchange(ref _pending, 1) == 1 || _stopping.IsCancellationRequested)
        {
            return;
        }

        _refresh = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(Quiet, _stopping.Token).ConfigureAwait(false);
                Volatile.Write(ref _pending, 0);
                await RefreshAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the engine stops
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        NetworkChange.NetworkAddressChanged -= OnAddressChanged;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _refresh.ConfigureAwait(false);
        _stopping.Dispose();
        _refreshing.Dispose();
    }

    [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "The host's addresses changed: the filter of sandbox network {Namespace} now closes {Count} destinations")]
    private partial void LogReloaded(string @namespace, int count);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Warning, Message = "The host's addresses changed, but the filter of sandbox network {Namespace} could not be reloaded: {Error}")]
    private partial void LogReloadFailed(string @namespace, string error);
}
