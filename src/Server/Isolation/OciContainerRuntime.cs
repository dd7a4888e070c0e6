using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Runs sandboxes with an OCI runtime CLI (crun, runc or runsc) from bundles written in-process: an overlayfs rootfs
/// over the image layers, config.json with namespaces, capabilities, seccomp and cgroup limits, and the agent as PID 1.
/// </summary>
internal sealed class OciContainerRuntime : IContainerRuntime, IAsyncDisposable
{
    private const int StderrLinesKept = 40;
    private const string InitPidFile = "init.pid";
    private readonly ContainerRuntimeOptions _options;
    private readonly RuntimeFlavor _flavor;
    private readonly string _runtimeBinary;
    private readonly string _runtimeRoot;
    private readonly string _agentDirectory;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SpillBudget _spillBudget;
    private readonly Lazy<Task<string?>> _compiledSeccomp;
    private readonly NetworkPool _networks;
    private readonly HostAddressWatch _addressWatch;
    private readonly SandboxIdRange? _networkOwner;

    public OciContainerRuntime(ContainerRuntimeOptions options, string agentDirectory, ILoggerFactory loggerFactory)
    {
        _options = options;
        _flavor = RuntimeCommands.FlavorOf(options.Runtime);
        _runtimeRoot = Path.Combine(options.RunDirectory, Name);
        _agentDirectory = agentDirectory;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<OciContainerRuntime>();
        var binary = HostCheck.FindExecutable(options.Runtime) ?? options.Runtime;
        // crun from a sealed copy starts without executing itself twice (SealedRuntimeBinary); runsc is another story.
        _runtimeBinary = _flavor == RuntimeFlavor.Crun ? SealedRuntimeBinary.For(binary, _logger) : binary;
        // Under crun an open sandbox joins its network's user namespace (OwnedNetworkNamespace); runsc, launched in the
        // network namespace, makes its user namespace itself (UserNamespaceLaunch) and never uses the host's sysfs.
        _networkOwner = _flavor == RuntimeFlavor.Runsc ? null : options.UserNamespace;
        _networks = new NetworkPool(options, _networkOwner, _logger);
        _addressWatch = new HostAddressWatch(options.ExtraClosedNetworks, _logger);
        _spillBudget = new SpillBudget(options.Output.SpillBudgetBytes);
        // Compiled on the first start (not at construction: the engine's host checks run first), shared by all.
        _compiledSeccomp = new(() => _flavor == RuntimeFlavor.Crun
            ? CompiledSeccompFilter.CompileAsync(_runtimeBinary, _runtimeRoot, Path.Combine(_options.StateDirectory, "bundles"), _options.CgroupParent,
                SeccompProfile.Build(_flavor), _logger, CancellationToken.None)
            : Task.FromResult<string?>(null));
    }

    public string Name => _flavor.ToString().ToLowerInvariant();

    /// <summary>
    /// Ends the open network kept ready for the next sandbox (<see cref="NetworkPool"/>) and the watch on the host's
    /// addresses (<see cref="HostAddressWatch"/>).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _addressWatch.DisposeAsync().ConfigureAwait(false);
        await _networks.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The open network kept ready for the next open sandbox.</summary>
    internal NetworkPool Networks => _networks;

    /// <summary>The file the engine executes for runtime commands (crun's sealed copy, see <see cref="SealedRuntimeBinary"/>).</summary>
    public string RuntimeBinary => _runtimeBinary;

    public async Task<IRunningContainer> StartAsync(ContainerSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var phases = new StartPhases();
        var bundle = Path.Combine(_options.StateDirectory, "bundles", spec.Id);
        if (Directory.Exists(bundle))
        {
            throw new ArgumentException($"A sandbox with id '{spec.Id}' already exists.", nameof(spec));
        }

        var logger = _loggerFactory.CreateLogger("TypedSandbox.Server.Isolation.Sandbox");
        // runsc with an open network starts inside the sandbox's user namespace (UserNamespaceLaunch), with its own root.
        var sub = _flavor == RuntimeFlavor.Runsc ? spec.Subcontainer : null;
        var launchInNamespace = _flavor == RuntimeFlavor.Runsc && spec.Network.Mode == NetworkMode.Open && _options.UserNamespace is not null && sub is null;
        var runtimeRoot = sub?.RuntimeRoot ?? (launchInNamespace ? Path.Combine(_options.RunDirectory, UserNamespaceLaunch.RuntimeRootName) : _runtimeRoot);
        var resources = new SandboxResources(spec.Id, bundle, _flavor, _runtimeBinary, runtimeRoot,
            $"/{_options.CgroupParent}/{spec.Id}", logger)
        {
            WritableDirectory = spec.WritableLayer is null ? _options.Quota?.SandboxDirectory(spec.Id) : null,
            LaunchNetworkNamespace = sub is not null ? sub.LaunchNetworkNamespace
                : launchInNamespace ? NetworkNamespaceFiles.PathOf(SandboxNetwork.NamespaceNameFor(spec.Id)) : null,
        };
        AgentChannel? channel = null;
        FileStream? gate = null;
        try
        {
            Directory.CreateDirectory(runtimeRoot);
            if (launchInNamespace)
            {
                // runsc writes its state there as the sandbox's root: owned by the range, closed to everyone else.
                Images.NativeFileSystem.LChown(runtimeRoot, _options.UserNamespace!.HostId, _options.UserNamespace.HostId);
                Images.NativeFileSystem.Chmod(runtimeRoot, 0b111_000_000);
            }
            if (resources.WritableDirectory is { } writable)
            {
                _options.Quota!.CreateLimitedDirectory(writable, spec.Limits.DiskBytes ?? _options.WritableLayerLimitBytes);
            }

            phases.Lap("storage");
            var upper = spec.WritableLayer?.UpperDirectory ?? resources.UpperDirectory;
            var work = spec.WritableLayer?.WorkDirectory ?? resources.WorkDirectory;
            foreach (var dir in new[] { upper, work, resources.RootfsPath, resources.EtcDirectory })
            {
                Directory.CreateDirectory(dir);
            }

            if (_options.UserNamespace is { } ids)
            {
                // The runtime opens the rootfs and mount sources from inside the user namespace: the bundle must be
                // searchable by the sandboxes' root group (and by no other host user).
                Images.NativeFileSystem.LChown(bundle, 0, ids.HostId);
                Images.NativeFileSystem.Chmod(bundle, 0b111_001_000);
                Images.NativeFileSystem.LChown(Path.GetDirectoryName(bundle)!, 0, ids.HostId);
                Images.NativeFileSystem.Chmod(Path.GetDirectoryName(bundle)!, 0b111_001_000);
                // The upper dir is the sandbox's "/" (overlayfs shows its owner and mode): root inside must own it.
                Images.NativeFileSystem.LChown(upper, ids.HostId, ids.HostId);
                Images.NativeFileSystem.Chmod(upper, 0b111_101_101);
            }
            phases.Lap("directories");
            if (spec.Restore is { } restore)
            {
                await Checkpoints.SeedUpperAsync(restore, upper, ct).ConfigureAwait(false);
                phases.Lap("seed upper");
            }
            LinuxNative.MountOverlay(spec.LayerDirs, upper, work, resources.RootfsPath);
            resources.OverlayMounted = true;
            phases.Lap("overlay");

            resources.Network = spec.JoinNetworkNamespace is not null || sub is not null ? SandboxNetwork.Joined(spec.Network.Mode == NetworkMode.Open, logger)
                : spec.Network.Mode == NetworkMode.Open ? _networks.TryClaim(spec, ct) ?? await SandboxNetwork.OpenAsync(spec, _options, _networkOwner, logger, ct).ConfigureAwait(false)
                : SandboxNetwork.Blocked(logger);
            _addressWatch.Track(resources.Network);
            phases.Lap("network");
            await WriteEtcFilesAsync(spec, resources, ct).ConfigureAwait(false);
            var compiledSeccomp = await _compiledSeccomp.Value.WaitAsync(ct).ConfigureAwait(false);
            // gVisor: the share through which mountImage hands images in (Mounts.GvisorImageShare).
            var configured = _flavor == RuntimeFlavor.Runsc ? spec with { Mounts = [.. spec.Mounts, Mounts.GvisorImageShare.Prepare(bundle)] } : spec;
            var config = OciConfig.Build(new OciConfig.Inputs(configured, _flavor, resources.RootfsPath, _agentDirectory,
                resources.EtcDirectory, resources.CgroupsPath, launchInNamespace ? null : spec.JoinNetworkNamespace ?? resources.Network.NamespacePath,
                launchInNamespace || sub?.LaunchNetworkNamespace is not null ? null : _options.UserNamespace, compiledSeccomp)
            {
                // Launched inside it: runsc's host networking is the namespace it was started in (a subcontainer's is its Sentry's).
                InheritNetworkNamespace = launchInNamespace || sub is not null,
                // A sidecar joins its sandbox's user namespace with its network; an open sandbox its network's.
                UserNamespacePath = spec.JoinNetworkNamespace is not null ? spec.JoinUserNamespace : resources.Network.UserNamespacePath,
            });
            sub?.Annotate(config);
            await File.WriteAllTextAsync(Path.Combine(bundle, "config.json"), config.ToJsonString(), ct).ConfigureAwait(false);
            phases.Lap("bundle");

            HostProcess runtime;
            if (launchInNamespace)
            {
                EngineCgroups.Create(resources.CgroupsPath, OciConfig.LimitsFor(spec.Limits, _flavor));
                // runsc writes its pid file as the namespace's root, who may not create files in the bundle: the file is made for it.
                var pidFile = Path.Combine(bundle, InitPidFile);
                await File.WriteAllTextAsync(pidFile, "", ct).ConfigureAwait(false);
                Images.NativeFileSystem.LChown(pidFile, _options.UserNamespace!.HostId, _options.UserNamespace.HostId);
                // Held open until the agent answers: the launcher may open the FIFO only after the engine wrote to it,
                // and a FIFO no one holds open drops what was written.
                gate = UserNamespaceLaunch.OpenGate(bundle);
                runtime = StartRuntime(spec, bundle, runtimeRoot, resources.Network.IsOpen, resources.Network.NamespacePath, logger);
                resources.RuntimeProcess = runtime;
                resources.Init = SandboxInit.Foreground(runtime);
                await UserNamespaceLaunch.ReleaseAsync(runtime, gate, _options.UserNamespace!, resources.CgroupsPath, ct).ConfigureAwait(false);
            }
            else
            {
                gate = sub is { InNamespaces: true } ? UserNamespaceLaunch.OpenGate(bundle) : null;
                runtime = StartRuntime(spec, bundle, runtimeRoot, resources.Network.IsOpen || sub is { OpenNetwork: true }, null, logger);
                resources.RuntimeProcess = runtime;
                phases.Lap("runtime process");
                resources.Init = SandboxInit.Foreground(runtime);
                if (gate is not null)
                {
                    await sub!.ReleaseAsync(runtime, gate, ct).ConfigureAwait(false);
                }
            }
            resources.ChannelPipes = AgentChannel.PipeIdentity(runtime.StandardInput) is { } toAgent && AgentChannel.PipeIdentity(runtime.StandardOutput) is { } fromAgent
                ? new ChannelPipes(toAgent, fromAgent) : null;
            channel = spec.Restore is { } resumed
                ? new AgentChannel(resumed.Channel, runtime.StandardInput, runtime.StandardOutput,
                    Path.Combine(_options.StateDirectory, "spill"), resources.ReadOomKillCount, logger, _options.Output, _spillBudget)
                : new AgentChannel(runtime.StandardInput, runtime.StandardOutput,
                    Path.Combine(_options.StateDirectory, "spill"), resources.ReadOomKillCount, logger, _options.Output, _spillBudget);
            channel.Start();
            resources.StopAgent = channel.CloseInputAsync;
            await Task.WhenAny(channel.Ready, channel.Closed).WaitAsync(ct).ConfigureAwait(false);
            gate?.Dispose();
            if (!channel.Ready.IsCompletedSuccessfully)
            {
                await runtime.WaitForExitAsync(ct).ConfigureAwait(false);
                await runtime.OutputClosed.WaitAsync(ct).ConfigureAwait(false);
                throw new ContainerStartException(
                    $"{Name} could not start sandbox {spec.Id} (exit code {runtime.ExitCode}): {string.Join(" | ", runtime.Stderr.Lines)} {channel.UnexpectedOutput}".TrimEnd());
            }
            if (RuntimeCommands.Detaches(_flavor, sub is not null))
            {
                resources.Init = await DetachedInitAsync(spec.Id, runtime, resources, ct).ConfigureAwait(false);
            }
            phases.Lap("runtime and agent");
            await resources.Network.WhenReadyAsync(ct).ConfigureAwait(false);
            phases.Lap("network ready");
            // The runtime has made the sandbox's cgroups now; its network helper belongs in them.
            resources.Network.JoinCgroups(resources.CgroupsPath);
            phases.Lap("helper cgroups");
            if (resources.Network.IsOpen)
            {
                _networks.Refill();
            }

            var handle = new ContainerHandle(spec, resources, channel, runtime, logger);
            if (spec.Entrypoint is { } entrypoint)
            {
                try
                {
                    await handle.StartEntrypointAsync(entrypoint, ct).ConfigureAwait(false);
                }
                catch
                {
                    await handle.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }
            IsolationLog.Started(_logger, spec.Id, Name, (long)phases.TotalMilliseconds, phases);
            return handle;
        }
        catch (Exception e) when (e is not ExecStartException || channel is null)
        {
            gate?.Dispose();
            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }

            await resources.CleanupAsync().ConfigureAwait(false);
            if (resources.RuntimeProcess is { } started)
            {
                await started.DisposeAsync().ConfigureAwait(false);
            }
            throw;
        }
    }

    public async Task<IRunningContainer?> AdoptAsync(ContainerHandover handover, Func<AgentChannel, SupervisedProcess?> adoptProcesses, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(handover);
        ArgumentNullException.ThrowIfNull(adoptProcesses);
        if (_flavor.ToString() != handover.Runtime || handover.Pipes is not { } pipes)
        {
            return null;
        }

        var logger = _loggerFactory.CreateLogger("TypedSandbox.Server.Isolation.Sandbox");
        var resources = new SandboxResources(handover.Id, handover.BundleDirectory, _flavor, _runtimeBinary, handover.RuntimeRoot, handover.CgroupsPath, logger)
        {
            WritableDirectory = handover.WritableDirectory,
            OverlayMounted = true,
            LaunchNetworkNamespace = handover.LaunchNetworkNamespace,
        };
        var policy = handover.NetworkNamespace is null ? NetworkPolicy.Blocked : new NetworkPolicy(NetworkMode.Open, handover.AllowedCidrs) { Restricted = handover.Restricted };
        AgentChannel? channel = null;
        try
        {
            // Checked against the cgroup: a pid reused since the sandbox ended counts as ended.
            resources.Init = SandboxInit.Detached(handover.InitPid, handover.CgroupsPath);
            if (resources.Init.HasExited)
            {
                throw new SandboxEndedException("The sandbox ended while no engine ran.");
            }

            if (handover.AgentProtocol != Agent.Protocol.Frames.Version)
            {
                throw new SandboxEndedException(
                    $"Its agent speaks protocol {handover.AgentProtocol}; this engine speaks {Agent.Protocol.Frames.Version}.");
            }

            resources.Network = handover.NetworkNamespace is { } name
                ? SandboxNetwork.Resume(name, policy, handover.CgroupsPath, _options, logger)
                : SandboxNetwork.Blocked(logger);
            _addressWatch.Track(resources.Network);
            resources.ChannelPipes = pipes;
            var (toAgent, fromAgent) = AgentChannel.OpenPipesOf(handover.InitPid, pipes);
            channel = new AgentChannel(handover.ChannelState, toAgent, fromAgent, Path.Combine(_options.StateDirectory, "spill"), resources.ReadOomKillCount,
                logger, _options.Output, _spillBudget);
            var entrypoint = adoptProcesses(channel);
            channel.Start();
            resources.StopAgent = channel.CloseInputAsync;
            await channel.ReattachAsync(ct).ConfigureAwait(false);
            var spec = new ContainerSpec
            {
                Id = handover.Id,
                LayerDirs = [],
                ImageEnv = handover.ImageEnv,
                Env = handover.Env,
                Workdir = handover.Workdir,
                ImageWorkdir = handover.ImageWorkdir,
                Hostname = handover.Hostname,
                Network = policy,
                Entrypoint = handover.EntrypointChannelId is null ? null : new ProcessSpec(["(adopted)"]),
            };
            var handle = new ContainerHandle(spec, resources, channel, runtime: null, logger);
            handle.AdoptEntrypoint(entrypoint);
            return handle;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }

            await resources.CleanupAsync().ConfigureAwait(false);
            throw new SandboxEndedException($"Sandbox container {handover.Id} could not be adopted: {e.Message}", e);
        }
    }

    private HostProcess StartRuntime(ContainerSpec spec, string bundle, string runtimeRoot, bool hostNetwork, string? launchNetworkNamespace, ILogger logger)
    {
        var id = spec.Id;
        var pidFile = RuntimeCommands.Detaches(_flavor, spec.Subcontainer is not null) ? Path.Combine(bundle, InitPidFile) : null;
        var command = spec.Restore is { } restore
            ? RuntimeCommands.Restore(_flavor, runtimeRoot, bundle, id, restore.ImagePath, pidFile)
            : RuntimeCommands.Run(_flavor, runtimeRoot, bundle, id, hostNetwork, pidFile);
        // The sandbox's init inherits these pipes: stdin/stdout carry the agent protocol, stderr its diagnostics.
        var start = new HostProcessStart(_runtimeBinary, [.. command])
        {
            KillTree = true,
            StderrLines = StderrLinesKept,
            OnLine = line => IsolationLog.RuntimeOutput(logger, id, line),
        };
        return HostProcesses.Start(spec.Subcontainer is { } sub && _flavor == RuntimeFlavor.Runsc ? sub.Wrap(start, bundle)
            : launchNetworkNamespace is null ? start : UserNamespaceLaunch.Wrap(start, launchNetworkNamespace, bundle));
    }

    /// <summary>
    /// A detached run's runtime exits once the container runs (its pipes stay with the init): from then on the init is
    /// followed through a process descriptor. A runtime that fails after the agent's greeting still fails the start.
    /// </summary>
    private async Task<SandboxInit> DetachedInitAsync(string id, HostProcess runtime, SandboxResources resources, CancellationToken ct)
    {
        var code = await runtime.Exited.WaitAsync(ct).ConfigureAwait(false);
        if (code != 0)
        {
            throw new ContainerStartException($"{Name} could not start sandbox {id} (exit code {code}): {string.Join(" | ", runtime.Stderr.Lines)}");
        }

        var pid = await File.ReadAllTextAsync(Path.Combine(resources.BundleDirectory, InitPidFile), ct).ConfigureAwait(false);
        return SandboxInit.Detached(int.Parse(pid.Trim(), System.Globalization.CultureInfo.InvariantCulture), resources.CgroupsPath);
    }

    private static async Task WriteEtcFilesAsync(ContainerSpec spec, SandboxResources resources, CancellationToken ct)
    {
        var etc = resources.EtcDirectory;
        var hosts = $"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{spec.Hostname}\n";
        await File.WriteAllTextAsync(Path.Combine(etc, "hosts"), hosts, ct).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(etc, "hostname"), spec.Hostname + "\n", ct).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(etc, "resolv.conf"), resources.Network!.ResolvConf, ct).ConfigureAwait(false);
    }
}
