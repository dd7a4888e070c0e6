using System.Collections.Concurrent;
using System.Net.NetworkInformation;
using System.Threading.Channels;

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
    // Each reload is mostly process starts (nsenter, iptables-restore): a few per core keep the cores busy.
    private static readonly int ReloadsAtOnce = Math.Clamp(2 * Environment.ProcessorCount, 2, 16);
    private readonly ConcurrentDictionary<SandboxNetwork, byte> _networks = new();
    private readonly CancellationTokenSource _stopping = new();
    // One pending change at most: a burst of reports (an interface coming up sends several) becomes one reload.
    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly IReadOnlyList<string> _extraClosed;
    private readonly ILogger _logger;
    private readonly Task _reloading;

    /// <param name="extraClosed">The operator's closed networks (<see cref="ContainerRuntimeOptions.ExtraClosedNetworks"/>).</param>
    /// <param name="logger">Where reloads and their failures go.</param>
    public HostAddressWatch(IReadOnlyList<string> extraClosed, ILogger logger)
    {
        _extraClosed = extraClosed;
        _logger = logger;
        _reloading = Task.Run(ReloadOnChangesAsync);
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

    /// <summary>
    /// Reloads every tracked filter whose closed addresses differ from the host's of now, a few at a time: each reload
    /// is an <c>iptables-restore</c> process in the sandbox's namespace (nf_tables, so no lock shared between them), and
    /// the new address stays open to the sandboxes not yet reloaded.
    /// </summary>
    private async Task RefreshAsync(CancellationToken ct)
    {
        var closed = ClosedNetworks.Current(_extraClosed);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = ReloadsAtOnce, CancellationToken = ct };
        await Parallel.ForEachAsync(_networks.Keys, parallel, async (network, token) =>
        {
            try
            {
                if (await network.RefreshClosedAsync(closed, token).ConfigureAwait(false))
                {
                    LogReloaded(network.NamespaceName ?? "?", closed.Count);
                }
            }
            catch (Exception e) when (e is ContainerStartException or IOException or ObjectDisposedException or System.ComponentModel.Win32Exception)
            {
                LogReloadFailed(network.NamespaceName ?? "?", e.Message);
            }
        }).ConfigureAwait(false);
    }

    private void OnAddressChanged(object? sender, EventArgs e) => _changes.Writer.TryWrite(true);

    private async Task ReloadOnChangesAsync()
    {
        try
        {
            while (await _changes.Reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                // Reports that come within Quiet of the first fold into the reload that follows.
                await Task.Delay(Quiet, _stopping.Token).ConfigureAwait(false);
                _changes.Reader.TryRead(out _);
                await RefreshAsync(_stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // the engine stops
        }
    }

    public async ValueTask DisposeAsync()
    {
        NetworkChange.NetworkAddressChanged -= OnAddressChanged;
        _changes.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _reloading.ConfigureAwait(false);
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "The host's addresses changed: the filter of sandbox network {Namespace} now closes {Count} destinations")]
    private partial void LogReloaded(string @namespace, int count);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Warning, Message = "The host's addresses changed, but the filter of sandbox network {Namespace} could not be reloaded: {Error}")]
    private partial void LogReloadFailed(string @namespace, string error);
}
