using System.Text.Json.Nodes;
using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// A container started inside a running gVisor sandbox (runsc's multi-container mode): under runsc a sandbox's network
/// lives in its own kernel (the Sentry), so a container sharing it must run in that same Sentry. Its config.json carries
/// the containerd annotations runsc reads (container type "container", the sandbox's container id); the main container
/// needs none (no annotation means "sandbox"). It is run with the main container's runtime root and, when the main one
/// was launched inside its user namespace (<see cref="UserNamespaceLaunch"/>), from inside that namespace and its
/// network namespace: runsc's control socket answers only there. runsc gives it its own root filesystem (its own gofer),
/// PID, mount, IPC and UTS namespaces inside the Sentry, and donates the stdio of its <c>runsc run</c> to its init, so
/// its agent speaks over those pipes as the main container's does.
/// </summary>
/// <param name="SandboxContainerId">The main container's id (the gVisor sandbox's id).</param>
/// <param name="RuntimeRoot">The main container's runtime root, where runsc finds the sandbox.</param>
/// <param name="OpenNetwork">The sandbox's network is open (runsc's --network flag as the main container's).</param>
/// <param name="LaunchNetworkNamespace">The network namespace the main runsc was launched in; null = not launched that way.</param>
/// <param name="LaunchUserNamespace">The user namespace the main runsc runs in (with <paramref name="LaunchNetworkNamespace"/>).</param>
/// <param name="SandboxCgroupsPath">The main container's cgroups, which the engine made for a launch in its namespaces.</param>
internal sealed record RunscSubcontainer(string SandboxContainerId, string RuntimeRoot, bool OpenNetwork, string? LaunchNetworkNamespace,
    string? LaunchUserNamespace, string SandboxCgroupsPath)
{
    /// <summary>Whether a config starts a new sandbox ("sandbox") or a container in one ("container").</summary>
    public const string ContainerTypeAnnotation = "io.kubernetes.cri.container-type";

    /// <summary>The container id of the sandbox a "container" joins.</summary>
    public const string SandboxIdAnnotation = "io.kubernetes.cri.sandbox-id";

    /// <summary>How to start a container in the running runsc sandbox <paramref name="main"/>.</summary>
    /// <exception cref="InvalidOperationException">The main container is not run by runsc, or its runtime has ended.</exception>
    public static RunscSubcontainer Of(SandboxResources main)
    {
        ArgumentNullException.ThrowIfNull(main);
        if (main.Flavor != RuntimeFlavor.Runsc || main.Init is not { HasExited: false })
        {
            throw new InvalidOperationException($"Container {main.Id} is not a running runsc sandbox.");
        }

        return new RunscSubcontainer(main.Id, main.RuntimeRoot, main.Network?.IsOpen == true, main.LaunchNetworkNamespace,
            main.LaunchUserNamespace(), main.CgroupsPath);
    }

    /// <summary>Marks <paramref name="config"/> as a container of the sandbox.</summary>
    public void Annotate(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var annotations = config["annotations"] as JsonObject ?? [];
        annotations[ContainerTypeAnnotation] = "container";
        annotations[SandboxIdAnnotation] = SandboxContainerId;
        config["annotations"] = annotations;
        if (LaunchNetworkNamespace is not null && config["linux"] is JsonObject linux)
        {
            // This runsc (20221219) makes a subcontainer's cgroup even with --ignore-cgroups, which fails inside the user
            // namespace; without a path it makes none, and the launch joins the sandbox's cgroups instead (ReleaseAsync).
            linux.Remove("cgroupsPath");
        }
    }

    /// <summary>True when it is started inside the main container's namespaces (see <see cref="Wrap"/>).</summary>
    public bool InNamespaces => LaunchNetworkNamespace is not null && LaunchUserNamespace is not null;

    /// <summary>
    /// <paramref name="runtime"/> run where the main container's runtime runs (its namespaces, as their root), once
    /// <see cref="ReleaseAsync"/> opened the gate of <paramref name="bundle"/> (<see cref="UserNamespaceLaunch.OpenGate"/>).
    /// </summary>
    public HostProcessStart Wrap(HostProcessStart runtime, string bundle) => !InNamespaces ? runtime : runtime with
    {
        File = "/bin/sh",
        Arguments =
        [
            "-c", "read -r _ < \"$0\" && exec \"$@\"", UserNamespaceLaunch.FifoPath(bundle), HostCheck.FindExecutable("nsenter") ?? "nsenter",
            "--net=" + LaunchNetworkNamespace, "--user=" + LaunchUserNamespace, "--setuid", "0", "--setgid", "0", "--", runtime.File, .. runtime.Arguments,
        ],
    };

    /// <summary>
    /// Moves the waiting launch into the sandbox's cgroups (runsc there makes none: its gofer for this container is then
    /// bounded with the sandbox) and lets it start.
    /// </summary>
    public async Task ReleaseAsync(HostProcess launch, FileStream gate, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(gate);
        EngineCgroups.Join(SandboxCgroupsPath, launch.Id);
        await gate.WriteAsync("go\n"u8.ToArray(), ct).ConfigureAwait(false);
        await gate.FlushAsync(ct).ConfigureAwait(false);
    }
}
