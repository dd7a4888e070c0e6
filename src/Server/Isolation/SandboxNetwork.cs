using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// A sandbox's network. Blocked: the runtime gives the sandbox a fresh network namespace (loopback only) and nothing
/// exists on the host. Open: the engine makes a named network namespace and runs slirp4netns for it, a user-mode
/// stack whose outbound connections are ordinary host sockets; --disable-host-loopback keeps the host's 127.0.0.1
/// (and so the engine's own port) out of reach. Allowed CIDRs become an OUTPUT policy inside that namespace, which
/// the sandbox cannot change (it has no CAP_NET_ADMIN) and the engine replaces on a live update (<see cref="ApplyAsync"/>).
/// </summary>
internal sealed partial class SandboxNetwork : IAsyncDisposable
{
    private const string SlirpDns = "10.0.2.3";
    private readonly string? _namespaceName;
    private readonly HostProcess? _slirp;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _updates = new(1, 1);
    private Task _ready = Task.CompletedTask;
    // The sandbox's filter as a function of the closed destinations, and the list it was last loaded with (RefreshClosedAsync).
    private Func<IReadOnlyList<string>, string>? _filter;
    private IReadOnlyList<string>? _closedLoaded;
    // The operator's closed networks (ContainerRuntimeOptions.ExtraClosedNetworks), part of every filter.
    private IReadOnlyList<string> _extraClosed = [];
    // Set when the network ends: a reload that raced with the end leaves the namespace alone.
    private volatile bool _ended;
    // The user namespace owning the network namespace, when the sandbox joins both (crun); null: the host's owns it.
    private OwnedNetworkNamespace? _owned;

    private SandboxNetwork(string? namespaceName, HostProcess? slirp, ILogger logger)
    {
        _namespaceName = namespaceName;
        _slirp = slirp;
        _logger = logger;
    }

    /// <summary>The namespace to join; null = let the runtime create an empty one.</summary>
    public string? NamespacePath => _namespaceName is null ? null : NetworkNamespaceFiles.PathOf(_namespaceName);

    public bool IsOpen => _namespaceName is not null;

    /// <summary>
    /// The user namespace the sandbox joins with its network namespace (<see cref="OwnedNetworkNamespace"/>); null: the
    /// runtime makes the sandbox's own.
    /// </summary>
    public string? UserNamespacePath => _owned?.UserPath;

    /// <summary>Contents of the sandbox's /etc/resolv.conf.</summary>
    public string ResolvConf => IsOpen || _joinedOpen ? $"nameserver {SlirpDns}\n" : "";

    // A sidecar in its sandbox's open network: the same resolver, nothing of its own to create or remove.
    private bool _joinedOpen;

    /// <summary>The name of an open sandbox's network namespace (its file is under /run/netns).</summary>
    public static string NamespaceNameFor(string containerId) => "tsb-" + containerId;

    public static SandboxNetwork Blocked(ILogger logger) => new(null, null, logger);

    /// <summary>Another sandbox's network, joined by path (see <see cref="ContainerSpec.JoinNetworkNamespace"/>): owns nothing.</summary>
    public static SandboxNetwork Joined(bool open, ILogger logger) => new(null, null, logger) { _joinedOpen = open };

    /// <summary>A namespace left by an engine that died (its slirp4netns exited with it); only removal remains.</summary>
    public static SandboxNetwork Adopt(string namespaceName, ILogger logger) => new(namespaceName, null, logger);

    /// <summary>
    /// Makes an open network for <paramref name="spec"/>'s sandbox at its create. With <paramref name="owner"/> the
    /// namespace is owned by a user namespace of its own mapped onto that range, which the sandbox joins
    /// (<see cref="UserNamespacePath"/>); without, by the host's.
    /// </summary>
    public static async Task<SandboxNetwork> OpenAsync(ContainerSpec spec, ContainerRuntimeOptions options, SandboxIdRange? owner, ILogger logger, CancellationToken ct)
    {
        var name = NamespaceNameFor(spec.Id);
        OwnedNetworkNamespace? owned = null;
        if (owner is null)
        {
            await NetworkNamespaceFiles.CreateAsync(name).ConfigureAwait(false);
        }
        else
        {
            owned = await OwnedNetworkNamespace.CreateAsync(owner, ct).ConfigureAwait(false);
            try
            {
                NetworkNamespaceFiles.Bind(owned.Network, name);
            }
            catch
            {
                owned.Dispose();
                throw;
            }
        }

        HostProcess? slirp = null;
        try
        {
            // Its own mount namespace with every mount private, made before it starts: --enable-sandbox pivots away
            // from the host's root, and with /run/netns shared (ip netns makes it so) that detach would otherwise
            // unmount every sandbox's namespace file on the host.
            // --ready-fd=1: slirp writes "1" to stdout once tap0 is configured in the namespace. --exit-fd=0: it exits
            // when its stdin (a pipe only the engine holds) closes, so it never outlives the engine. It parses hostile
            // packets as root: --enable-sandbox (own mount namespace on an empty root, capabilities dropped) and
            // --enable-seccomp (only the syscalls it needs) bound what a libslirp bug could give.
            slirp = StartSlirp(NetworkNamespaceFiles.PathOf(name), options);
            var network = new SandboxNetwork(name, slirp, logger) { _owned = owned, _extraClosed = options.ExtraClosedNetworks };
            // Not awaited here: slirp configures the namespace while the runtime starts the sandbox (both take
            // milliseconds of mostly waiting); the start awaits WhenReadyAsync before anything runs in the sandbox.
            network._ready = network.BecomeReadyAsync(spec.Network, options, ct);
            return network;
        }
        catch
        {
            await new SandboxNetwork(name, slirp, logger) { _owned = owned }.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static HostProcess StartSlirp(string namespacePath, ContainerRuntimeOptions options) =>
        HostProcesses.Start(new HostProcessStart(HostCheck.FindExecutable("unshare") ?? "unshare",
        [
            "--mount", "--propagation", "private", options.SlirpBinary, "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
            "--enable-seccomp", "--netns-type=path", "--ready-fd=1", "--exit-fd=0", namespacePath, "tap0",
        ]));

    /// <summary>
    /// Completes when the network works: slirp4netns has configured tap0 in the namespace and the allow-list (if any)
    /// is in force. Throws <see cref="ContainerStartException"/> when slirp4netns failed.
    /// </summary>
    public Task WhenReadyAsync(CancellationToken ct) => _ready.WaitAsync(ct);

    private async Task BecomeReadyAsync(NetworkPolicy policy, ContainerRuntimeOptions options, CancellationToken ct)
    {
        await SlirpReadyAsync(_slirp!, NamespacePath!, ct).ConfigureAwait(false);
        await ApplyPolicyAsync(policy, options, ct).ConfigureAwait(false);
    }

    /// <summary>Waits until slirp4netns configured tap0 in the namespace at <paramref name="namespacePath"/>, then allows low ports there.</summary>
    private static async Task SlirpReadyAsync(HostProcess slirp, string namespacePath, CancellationToken ct)
    {
        if (!await WaitReadyAsync(slirp.StandardOutput, ct).ConfigureAwait(false))
        {
            slirp.Kill();
            await slirp.Exited.ConfigureAwait(false);
            await slirp.OutputClosed.ConfigureAwait(false);
            throw new ContainerStartException($"slirp4netns failed: {slirp.Stderr.ToString().Trim()}");
        }
        await AllowLowPortsAsync(namespacePath).ConfigureAwait(false);
    }

    /// <summary>Puts the sandbox's outbound policy in force on a ready network: its egress proxy or its filter.</summary>
    private async Task ApplyPolicyAsync(NetworkPolicy policy, ContainerRuntimeOptions options, CancellationToken ct)
    {
        if (policy.Egress is { } egress)
        {
            await StartEgressProxyAsync(policy, egress, options, ct).ConfigureAwait(false);
        }
        else
        {
            // Also without an allow-list: the filter closes the host's own addresses and the metadata services (ClosedNetworks).
            await LoadFilterAsync(policy, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for the "1" slirp4netns writes on its ready descriptor (stdout); lines before it are its warnings
    /// ("Support for seccomp is experimental"). False when it ended or took longer than 10 s.
    /// </summary>
    private static async Task<bool> WaitReadyAsync(Stream stdout, CancellationToken ct)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(ct);
        patience.CancelAfter(TimeSpan.FromSeconds(10));
        var one = new byte[1];
        var lineStart = true;
        try
        {
            while (await stdout.ReadAsync(one, patience.Token).ConfigureAwait(false) == 1)
            {
                if (lineStart && one[0] == (byte)'1')
                {
                    return true;
                }

                lineStart = one[0] == (byte)'\n';
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // too slow: reported as a failure
        }
        return false;
    }

    /// <summary>
    /// Moves slirp4netns into the sandbox's cgroups (every controller the runtime made one in), so the CPU, memory and
    /// pids it spends on the sandbox's traffic count against the sandbox's limits, not the engine's.
    /// </summary>
    public void JoinCgroups(string cgroupsPath)
    {
        if (_slirp is null || _slirp.HasExited)
        {
            return;
        }

        var pid = _slirp.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var joined = 0;
        foreach (var root in Directory.Exists("/sys/fs/cgroup") ? [.. Directory.GetDirectories("/sys/fs/cgroup"), "/sys/fs/cgroup"] : Array.Empty<string>())
        {
            var procs = root + cgroupsPath + "/cgroup.procs";
            if (!File.Exists(procs))
            {
                continue;
            }

            try
            {
                File.WriteAllText(procs, pid);
                joined++;
            }
            catch (IOException e)
            {
                IsolationLog.HelperCgroupJoinFailed(_logger, procs, e.Message);
            }
        }
        if (joined == 0)
        {
            throw new ContainerStartException($"slirp4netns could not join the sandbox's cgroup {cgroupsPath}: the runtime made none.");
        }
    }

    /// <summary>
    /// Puts <paramref name="policy"/> in force in the running sandbox's namespace, replacing the one before (live
    /// updates of the outbound policy). Updates are applied one at a time, after the network became ready.
    /// </summary>
    /// <exception cref="InvalidOperationException">The sandbox has no network namespace (it was created blocked).</exception>
    public async Task ApplyAsync(NetworkPolicy policy, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (!IsOpen || policy.Mode != NetworkMode.Open)
        {
            throw new InvalidOperationException("Only an open sandbox network takes a new open policy.");
        }

        await WhenReadyAsync(ct).ConfigureAwait(false);
        await _updates.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await LoadFilterAsync(policy, ct).ConfigureAwait(false);
        }
        finally
        {
            _updates.Release();
        }
    }

    private Task LoadFilterAsync(NetworkPolicy policy, CancellationToken ct) =>
        LoadFilterAsync(closed => Sandboxes.NetworkRules.FilterTable(policy, SlirpDns, closed), ct);

    /// <summary>
    /// Loads the filter <paramref name="table"/> makes from the closed destinations of now, and keeps both for
    /// <see cref="RefreshClosedAsync"/>.
    /// </summary>
    private async Task LoadFilterAsync(Func<IReadOnlyList<string>, string> table, CancellationToken ct)
    {
        var closed = ClosedNetworks.Current(_extraClosed);
        await LoadTableAsync(NamespacePath!, table(closed), ct).ConfigureAwait(false);
        _filter = table;
        _closedLoaded = closed;
    }

    /// <summary>
    /// Loads the sandbox's filter again when <paramref name="closed"/> (<see cref="ClosedNetworks.Current"/> with the
    /// engine's own closed networks) differs from the list it was loaded with: the host's addresses changed
    /// (<see cref="HostAddressWatch"/>). True when it was reloaded; false when nothing changed, the network never became
    /// ready or it has ended.
    /// </summary>
    public async Task<bool> RefreshClosedAsync(IReadOnlyList<string> closed, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(closed);
        if (!IsOpen)
        {
            return false;
        }

        try
        {
            await WhenReadyAsync(ct).ConfigureAwait(false);
        }
        catch (ContainerStartException)
        {
            return false;
        }

        await _updates.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_ended || _filter is not { } table || (_closedLoaded?.SequenceEqual(closed, StringComparer.Ordinal) ?? false))
            {
                return false;
            }

            await LoadTableAsync(NamespacePath!, table(closed), ct).ConfigureAwait(false);
            _closedLoaded = closed;
            return true;
        }
        finally
        {
            _updates.Release();
        }
    }

    /// <summary>Loads an <c>iptables-restore</c> input in the network namespace at <paramref name="namespacePath"/>.</summary>
    private static async Task LoadTableAsync(string namespacePath, string table, CancellationToken ct) =>
        await HostCommand.RunCheckedAsync(HostCheck.FindExecutable("nsenter") ?? "nsenter", ["--net=" + namespacePath, "iptables-restore"], ct, table)
            .ConfigureAwait(false);

    /// <summary>Set by <see cref="HostAddressWatch.Track"/>: ends the tracking when the network ends.</summary>
    internal Action? Untrack { get; set; }

    public async ValueTask DisposeAsync()
    {
        _ended = true;
        Untrack?.Invoke();
        await StopEgressProxyAsync().ConfigureAwait(false);
        if (_slirp is not null)
        {
            // Closing its exit pipe ends slirp4netns; kill it if that did not.
            _slirp.CloseStandardInput();
            using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            {
                try { await _slirp.WaitForExitAsync(grace.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
            }
            _slirp.Kill();
            await _slirp.Exited.ConfigureAwait(false);
            // Its readiness wait ends with its output: observe how (a start that failed elsewhere first never did).
            try { await _ready.ConfigureAwait(false); }
            catch (Exception e) when (e is ContainerStartException or OperationCanceledException or IOException) { }
            await _slirp.DisposeAsync().ConfigureAwait(false);
        }
        if (_namespaceName is not null && !_keepNamespace)
        {
            if (File.Exists(NetworkNamespaceFiles.PathOf(_namespaceName)) && !NetworkNamespaceFiles.Delete(_namespaceName))
            {
                IsolationLog.CleanupFailed(_logger, $"removing network namespace {_namespaceName}", "unmount or unlink failed");
            }
        }
        _owned?.Dispose();
    }
}
