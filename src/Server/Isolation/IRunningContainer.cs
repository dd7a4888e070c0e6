using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// A running sandbox as the engine core sees it: what a runtime's <see cref="IContainerRuntime.StartAsync"/> returns.
/// Disposing terminates the sandbox and releases everything.
/// </summary>
internal interface IRunningContainer : IAsyncDisposable
{
    /// <summary>The container id.</summary>
    string Id { get; }

    /// <summary>The entrypoint process; null for an idle sandbox.</summary>
    SupervisedProcess? Entrypoint { get; }

    /// <summary>Completes when the sandbox ended (its entrypoint exited, it was terminated, or its init died).</summary>
    Task<ProcessExit> Exited { get; }

    /// <summary>Runs a process in the sandbox (environment: see <see cref="ExecEnvironment"/>).</summary>
    /// <exception cref="ExecStartException">The process could not start (executable not found, bad directory...).</exception>
    /// <exception cref="SandboxEndedException">The sandbox has ended.</exception>
    Task<SupervisedProcess> ExecAsync(ProcessSpec spec, CancellationToken ct);

    /// <summary>Opens a TCP connection to <paramref name="port"/> on the sandbox's own loopback.</summary>
    /// <exception cref="SandboxConnectException">Nothing in the sandbox accepted the connection.</exception>
    /// <exception cref="SandboxEndedException">The sandbox has ended.</exception>
    Task<SandboxConnection> ConnectAsync(int port, CancellationToken ct);

    /// <summary>
    /// Copies everything the sandbox changed in its root filesystem to <paramref name="destination"/>, a directory that
    /// must not exist yet.
    /// </summary>
    /// <exception cref="SandboxEndedException">The sandbox has ended.</exception>
    Task CopyWritableLayerAsync(string destination, CancellationToken ct);

    /// <summary>Kills everything in the sandbox and releases its host resources; returns when that is done.</summary>
    Task TerminateAsync(CancellationToken ct);

    /// <summary>
    /// Gives a container started without a sandbox of its own (a warm pool's: no environment, working directory or
    /// entrypoint) those of the sandbox that claims it, and starts the entrypoint if there is one. Once only.
    /// </summary>
    /// <exception cref="InvalidOperationException">The container was started for a sandbox, or claimed before.</exception>
    /// <exception cref="ExecStartException">The entrypoint could not start.</exception>
    /// <exception cref="SandboxEndedException">The sandbox has ended.</exception>
    Task ClaimAsync(ContainerClaim claim, CancellationToken ct);
}

/// <summary>What a sandbox gives the container it claims from the warm pool (see <see cref="IRunningContainer.ClaimAsync"/>).</summary>
/// <param name="Env">Environment of every process of the sandbox (over the image's).</param>
/// <param name="Workdir">Default working directory of its processes, or null for the image's.</param>
/// <param name="Entrypoint">Its main process, or null for a sandbox that idles.</param>
internal sealed record ContainerClaim(IReadOnlyDictionary<string, string> Env, string? Workdir, ProcessSpec? Entrypoint);
