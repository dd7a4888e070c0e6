using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Isolation;

/// <summary>Starts isolated sandboxes (one OCI runtime: crun, runc or runsc).</summary>
internal interface IContainerRuntime
{
    /// <summary>The runtime's name: "crun", "runc" or "runsc".</summary>
    string Name { get; }

    /// <summary>Creates and starts a sandbox; returns once its agent is ready (and its entrypoint, if any, started).</summary>
    /// <exception cref="ArgumentException">The spec is invalid.</exception>
    /// <exception cref="ContainerStartException">The runtime failed; the message carries its error output.</exception>
    Task<IRunningContainer> StartAsync(ContainerSpec spec, CancellationToken ct);

    /// <summary>
    /// Adopts a container the engine before handed over (<see cref="ContainerHandle.HandOverAsync"/>): reopens its
    /// agent's channel, lets <paramref name="adoptProcesses"/> put its processes back under that channel (it returns the
    /// entrypoint, if any) and tells the agent to go on. Null when this runtime cannot adopt containers.
    /// </summary>
    /// <exception cref="Exec.SandboxEndedException">The container ended while no engine ran.</exception>
    Task<IRunningContainer?> AdoptAsync(ContainerHandover handover, Func<Exec.AgentChannel, Exec.SupervisedProcess?> adoptProcesses, CancellationToken ct) =>
        Task.FromResult<IRunningContainer?>(null);
}

/// <summary>A sandbox could not be started.</summary>
internal sealed class ContainerStartException : EngineException
{
    /// <summary>Creates the exception.</summary>
    public ContainerStartException() : base(EngineErrorKind.Unavailable, "The sandbox could not be started.") { }

    /// <summary>Creates the exception with a message.</summary>
    public ContainerStartException(string message) : base(EngineErrorKind.Unavailable, message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public ContainerStartException(string message, Exception inner) : base(EngineErrorKind.Unavailable, message, inner) { }
}
