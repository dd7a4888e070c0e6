using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// The engine's runtimes: its default (crun, runc or runsc) for every sandbox that names none, and gVisor (runsc) for
/// a sandbox that asks for it (Modal's <c>runtime: "gvisor"</c>, or a memory-snapshot sandbox) whatever the default.
/// The gVisor runtime is made on first use, so an engine on a host without runsc runs everything else.
/// </summary>
internal sealed class RuntimeChoice : IContainerRuntime, IAsyncDisposable
{
    private readonly OciContainerRuntime _default;
    private readonly RuntimeFlavor _defaultFlavor;
    private readonly Lazy<IContainerRuntime?> _gvisor;

    public RuntimeChoice(ContainerRuntimeOptions options, OciContainerRuntime defaultRuntime, Func<ContainerRuntimeOptions, IContainerRuntime> create)
    {
        ArgumentNullException.ThrowIfNull(options);
        _default = defaultRuntime;
        _defaultFlavor = RuntimeCommands.FlavorOf(options.Runtime);
        _gvisor = new(() => _defaultFlavor == RuntimeFlavor.Runsc
            ? _default
            : HostCheck.FindExecutable("runsc") is null ? null : create(options with { Runtime = "runsc" }));
    }

    /// <summary>Releases what the runtimes keep ready (see <see cref="OciContainerRuntime.DisposeAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await _default.DisposeAsync().ConfigureAwait(false);
        if (_gvisor.IsValueCreated && _gvisor.Value is IAsyncDisposable gvisor && !ReferenceEquals(gvisor, _default))
        {
            await gvisor.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The default runtime.</summary>
    public OciContainerRuntime Default => _default;

    /// <summary>The default runtime's name.</summary>
    public string Name => _default.Name;

    /// <summary>True when gVisor can run sandboxes on this host (runsc is installed).</summary>
    public bool OffersGvisor => _defaultFlavor == RuntimeFlavor.Runsc || HostCheck.FindExecutable("runsc") is not null;

    /// <inheritdoc/>
    /// <exception cref="EngineException">The spec asks for gVisor and runsc is not installed (FAILED_PRECONDITION).</exception>
    public Task<IRunningContainer> StartAsync(ContainerSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return RuntimeFor(spec).StartAsync(spec, ct);
    }

    /// <summary>Adopts with the runtime that ran the container (gVisor's, when this engine offers it).</summary>
    public Task<IRunningContainer?> AdoptAsync(ContainerHandover handover, Func<Exec.AgentChannel, Exec.SupervisedProcess?> adoptProcesses, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(handover);
        var runtime = handover.Runtime == _defaultFlavor.ToString() ? _default
            : handover.Runtime == nameof(RuntimeFlavor.Runsc) ? _gvisor.Value
            : null;
        return runtime?.AdoptAsync(handover, adoptProcesses, ct) ?? Task.FromResult<IRunningContainer?>(null);
    }

    /// <summary>The name of the runtime that runs <paramref name="spec"/>.</summary>

    public string NameFor(ContainerSpec spec) => RuntimeFor(spec).Name;

    private IContainerRuntime RuntimeFor(ContainerSpec spec) => spec.Runtime switch
    {
        null => _default,
        var flavor when flavor == _defaultFlavor => _default,
        RuntimeFlavor.Runsc => _gvisor.Value ?? throw EngineException.Precondition(
            "This sandbox needs gVisor (runtime \"gvisor\" or a memory snapshot), but runsc is not installed on the engine's host: apt-get install runsc."),
        var other => throw EngineException.Invalid($"Runtime '{other}' is not offered per sandbox; this engine offers its default and gVisor."),
    };
}
