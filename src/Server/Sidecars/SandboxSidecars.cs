using System.Text.Json;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Sidecars;

/// <summary>
/// Modal's sidecar containers: a second container of a running sandbox, from another image, started by the same OCI
/// runtime with the same isolation (its own user, PID, mount, IPC and UTS namespaces, seccomp, capabilities, its own
/// cgroup) but in the sandbox's network namespace, so each reaches the other's servers on 127.0.0.1. Its limits are
/// the sandbox's own (memory at most the sandbox's; it may ask for less): a cgroup v2 with processes takes no child
/// cgroups, so a sidecar cannot be carved out of the sandbox's cgroup, and <see cref="SidecarSpec.MaxRunningPerSandbox"/>
/// bounds the total instead. Execs run through the sidecar's own agent and are addressed like the sandbox's. Under
/// gVisor (runsc) the sandbox's network lives in its own kernel, so a sidecar runs as a second container in that same
/// gVisor sandbox (<see cref="RunscSubcontainer"/>): its own root filesystem and namespaces inside the sandbox's kernel,
/// bounded by the sandbox's cgroup (which holds that kernel), so there a sidecar's smaller memory limit is not enforced
/// apart from the sandbox's. Knows nothing of gRPC.
/// </summary>
internal sealed partial class SandboxSidecars(SandboxManager sandboxes, ImageBuilds images, IContainerRuntime runtime, TimeProvider clock, ILogger<SandboxSidecars> logger)
{
    /// <summary>Starts a sidecar in <paramref name="session"/>; returns once its agent (and its command, if any) runs.</summary>
    /// <exception cref="EngineException">A bad spec, a taken name, too many sidecars, a finished or gVisor sandbox.</exception>
    public async Task<Sidecar> CreateAsync(SandboxSession session, SidecarSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var main = session.RequireRunning();
        var resources = RequireOciRuntime(session, main);
        var mainMemoryMb = session.Spec.MemoryMb > 0 ? session.Spec.MemoryMb : ResourceLimits.Default.MemoryBytes!.Value / (1024 * 1024);
        if (spec.MemoryMb > mainMemoryMb)
        {
            throw EngineException.Invalid($"A sidecar may use at most its sandbox's memory ({mainMemoryMb} MiB); it asked for {spec.MemoryMb} MiB.");
        }

        session.Sidecars.Reserve(session.Id, spec.Name);
        try
        {
            var image = await images.GetReadyAsync(spec.ImageId, cancellationToken).ConfigureAwait(false);
            var id = ContainerSpec.NewId();
            var definition = session.Spec with
            {
                ImageId = spec.ImageId,
                EntrypointArgs = spec.Args,
                Environment = spec.Environment,
                Workdir = spec.Workdir,
                Terminal = null,
                Volumes = [],
                MemoryMb = spec.MemoryMb > 0 ? (uint)spec.MemoryMb : (uint)mainMemoryMb,
            };
            var containerSpec = await JoinedAsync(session, resources, SandboxContainerSpec.For(id, definition, image, []), cancellationToken).ConfigureAwait(false);
            var container = await runtime.StartAsync(containerSpec, cancellationToken).ConfigureAwait(false);
            var sidecar = new Sidecar(id, spec.Name, container, clock);
            // The sandbox was looked up before the start: had it ended meanwhile, what was joined may not be its.
            if (main.Exited.IsCompleted || !session.Sidecars.Add(sidecar))
            {
                await sidecar.TerminateAsync(CancellationToken.None).ConfigureAwait(false);
                throw EngineException.Precondition($"Sandbox {session.Id} finished while its sidecar '{spec.Name}' started.");
            }

            LogCreated(session.Id, spec.Name, id, spec.ImageId);
            return sidecar;
        }
        finally
        {
            session.Sidecars.Release(spec.Name);
        }
    }

    /// <summary>Starts a process in a running sidecar; its output and stdin are the sandbox's execs' (by exec id).</summary>
    /// <exception cref="EngineException">No such sidecar (NOT_FOUND), or it or the sandbox finished (FAILED_PRECONDITION).</exception>
    public Task<SupervisedProcess> ExecAsync(SandboxSession session, string containerId, string execId, ProcessSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var sidecar = session.Sidecars.GetById(session.Id, containerId);
        return sidecar.Result is null
            ? sandboxes.ExecAsync(session, sidecar.Container, execId, spec, cancellationToken)
            : throw EngineException.Precondition($"Sidecar '{sidecar.Name}' of sandbox {session.Id} has already finished.");
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the sidecar to end; returns null while it runs.</summary>
    public async Task<SandboxResult?> WaitAsync(SandboxSession session, string containerId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var sidecar = session.Sidecars.GetById(session.Id, containerId);
        if (timeout > TimeSpan.Zero && sidecar.Result is null)
        {
            try
            {
                await sidecar.Completion.WaitAsync(timeout, clock, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Long-poll budget spent: the caller polls again.
            }
        }

        return sidecar.Result;
    }

    /// <summary>Terminates a sidecar (the sandbox runs on); a finished one is left as it is.</summary>
    public async Task TerminateAsync(SandboxSession session, string containerId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var sidecar = session.Sidecars.GetById(session.Id, containerId);
        if (sidecar.Result is null)
        {
            await sidecar.TerminateAsync(cancellationToken).ConfigureAwait(false);
            LogTerminated(session.Id, sidecar.Name, sidecar.Id);
        }
    }

    /// <summary>The sandbox's host resources; FAILED_PRECONDITION for a memory-snapshot sandbox (a checkpoint holds one container).</summary>
    private static SandboxResources RequireOciRuntime(SandboxSession session, IRunningContainer main)
    {
        if (main is not ContainerHandle { Resources: var resources })
        {
            throw EngineException.Precondition("Sidecars need a sandbox run by an OCI runtime.");
        }

        return session.Spec.EnableMemorySnapshot
            ? throw EngineException.Precondition(
                $"Sandbox {session.Id} has memory snapshots enabled, and a gVisor checkpoint of it restores its main container only: " +
                "create the sandbox without experimentalEnableSnapshot to use sidecars.")
            : resources;
    }

    /// <summary>
    /// <paramref name="spec"/> joined to the sandbox's network: under crun its init's network namespace (the named one of
    /// an open network, or the runtime's own); under runsc the sandbox's own kernel, as a container of that gVisor sandbox.
    /// </summary>
    private static async Task<ContainerSpec> JoinedAsync(SandboxSession session, SandboxResources resources, ContainerSpec spec, CancellationToken ct)
    {
        if (resources.Flavor != RuntimeFlavor.Runsc)
        {
            var pid = await InitPidAsync(session, resources, ct).ConfigureAwait(false);
            return spec with { JoinNetworkNamespace = $"/proc/{pid}/ns/net", JoinUserNamespace = $"/proc/{pid}/ns/user" };
        }

        try
        {
            return spec with { Runtime = RuntimeFlavor.Runsc, Subcontainer = RunscSubcontainer.Of(resources) };
        }
        catch (InvalidOperationException)
        {
            throw EngineException.Precondition($"Sandbox {session.Id} is not running, so it takes no sidecar.");
        }
    }

    private static async Task<int> InitPidAsync(SandboxSession session, SandboxResources resources, CancellationToken ct)
    {
        var state = await resources.RunRuntimeAsync(["--root", resources.RuntimeRoot, "state", resources.Id], ct).ConfigureAwait(false);
        if (!state.Succeeded)
        {
            throw EngineException.Precondition($"Sandbox {session.Id} is not running, so it takes no sidecar ({state.Stderr.Trim()}).");
        }

        using var json = JsonDocument.Parse(state.Stdout);
        return json.RootElement.GetProperty("pid").GetInt32();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: sidecar {Name} ({ContainerId}) started from image {ImageId}")]
    private partial void LogCreated(string sandboxId, string name, string containerId, string imageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: sidecar {Name} ({ContainerId}) terminated")]
    private partial void LogTerminated(string sandboxId, string name, string containerId);
}
