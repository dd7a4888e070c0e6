using Microsoft.Win32.SafeHandles;
using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>Open networks made before a sandbox asks for one (<see cref="NetworkPool"/>).</summary>
internal sealed partial class SandboxNetwork
{
    /// <summary>
    /// A network namespace held by a descriptor only, with slirp4netns started on it and ready (tap0 configured, low
    /// ports allowed) and the filter of an open policy loaded (<see cref="ClosedNetworks"/>): what an open network has
    /// before its sandbox's policy. A claim names the namespace after the
    /// sandbox and hands slirp4netns over; until then nothing on the host names it, and the engine's end frees both
    /// (slirp4netns exits when its exit pipe closes, the namespace with its last descriptor).
    /// </summary>
    internal sealed class Ahead : IAsyncDisposable
    {
        private readonly SafeFileHandle _namespace;
        private readonly OwnedNetworkNamespace? _owned;
        private readonly IReadOnlyList<string> _closed;
        private readonly HostProcess _slirp;
        private readonly ILogger _logger;
        private int _claimed;

        private Ahead(SafeFileHandle held, OwnedNetworkNamespace? owned, IReadOnlyList<string> closed, HostProcess slirp, ILogger logger)
        {
            _closed = closed;
            _namespace = held;
            _owned = owned;
            _slirp = slirp;
            _logger = logger;
        }

        /// <summary>
        /// Makes a network ahead; returns once slirp4netns is ready. With <paramref name="owner"/> the namespace is
        /// owned by a user namespace of its own mapped onto that range (<see cref="OwnedNetworkNamespace"/>).
        /// </summary>
        /// <exception cref="ContainerStartException">The namespace or slirp4netns failed.</exception>
        public static async Task<Ahead> StartAsync(ContainerRuntimeOptions options, SandboxIdRange? owner, ILogger logger, CancellationToken ct)
        {
            var phases = new StartPhases();
            var owned = owner is null ? null : await OwnedNetworkNamespace.CreateAsync(owner, ct).ConfigureAwait(false);
            SafeFileHandle held;
            try
            {
                held = owned?.Network ?? await NetworkNamespaceFiles.CreateHeldAsync().ConfigureAwait(false);
            }
            catch
            {
                owned?.Dispose();
                throw;
            }

            HostProcess? slirp = null;
            try
            {
                phases.Lap("namespaces");
                var path = NetworkNamespaceFiles.PathOfHeld(held);
                slirp = StartSlirp(path, options);
                await SlirpReadyAsync(slirp, path, ct).ConfigureAwait(false);
                phases.Lap("slirp4netns");
                // The filter of an open policy without allow-list, which most claims keep as it is.
                var closed = ClosedNetworks.Current(options.ExtraClosedNetworks);
                await LoadTableAsync(path, Sandboxes.NetworkRules.FilterTable(NetworkPolicy.Open, SlirpDns, closed), ct).ConfigureAwait(false);
                phases.Lap("filter");
                IsolationLog.NetworkMadeAhead(logger, (long)phases.TotalMilliseconds, phases);
                return new Ahead(held, owned, closed, slirp, logger);
            }
            catch
            {
                if (slirp is not null)
                {
                    await StopAsync(slirp).ConfigureAwait(false);
                }

                held.Dispose();
                owned?.Dispose();
                throw;
            }
        }

        /// <summary>False once slirp4netns ended: the network no longer works and is not to be claimed.</summary>
        public bool Usable => !_slirp.HasExited;

        /// <summary>
        /// The network for the sandbox <paramref name="spec"/> describes: the namespace gets its file
        /// (<see cref="NamespaceNameFor"/>) and the sandbox's outbound policy is put in force (awaited by
        /// <see cref="WhenReadyAsync"/>). Claimed once; disposing it afterwards does nothing.
        /// </summary>
        /// <exception cref="ContainerStartException">The namespace could not be named.</exception>
        public SandboxNetwork Claim(ContainerSpec spec, ContainerRuntimeOptions options, CancellationToken ct)
        {
            if (Interlocked.Exchange(ref _claimed, 1) == 1)
            {
                throw new InvalidOperationException("This network was claimed already.");
            }

            var name = NamespaceNameFor(spec.Id);
            try
            {
                NetworkNamespaceFiles.Bind(_namespace, name);
            }
            catch
            {
                _claimed = 0;
                throw;
            }
            var network = new SandboxNetwork(name, _slirp, _logger) { _owned = _owned, _extraClosed = options.ExtraClosedNetworks };
            if (_owned is null)
            {
                _namespace.Dispose();
            }

            // An open policy without allow-list or proxy has its filter already (made with the network), unless the
            // host's addresses changed since.
            if (spec.Network.Egress is null && !spec.Network.Filters && ClosedNetworks.Current(options.ExtraClosedNetworks).SequenceEqual(_closed, StringComparer.Ordinal))
            {
                network._filter = closed => Sandboxes.NetworkRules.FilterTable(NetworkPolicy.Open, SlirpDns, closed);
                network._closedLoaded = _closed;
            }
            else
            {
                network._ready = network.ApplyPolicyAsync(spec.Network, options, ct);
            }

            return network;
        }

        /// <summary>Ends an unclaimed network: slirp4netns stops, the namespace goes with the descriptor.</summary>
        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _claimed, 1) == 1)
            {
                return;
            }

            await StopAsync(_slirp).ConfigureAwait(false);
            _namespace.Dispose();
            _owned?.Dispose();
        }

        private static async Task StopAsync(HostProcess slirp)
        {
            slirp.CloseStandardInput();
            using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            {
                try { await slirp.WaitForExitAsync(grace.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
            }
            slirp.Kill();
            await slirp.Exited.ConfigureAwait(false);
            await slirp.DisposeAsync().ConfigureAwait(false);
        }
    }
}
