using Microsoft.Extensions.Logging.Abstractions;

namespace TypedSandbox.Server.Isolation;

/// <summary>Creates the configured container runtime after checking the host.</summary>
internal static class ContainerRuntimeFactory
{
    /// <summary>
    /// Checks the host (<see cref="HostCheck"/>), prepares the agent's files and returns a runtime for
    /// <see cref="ContainerRuntimeOptions.Runtime"/> (crun, runc or runsc), which also runs gVisor sandboxes on request
    /// (<see cref="RuntimeChoice"/>).
    /// </summary>
    /// <exception cref="HostNotReadyException">Something is missing; the message lists each problem and its fix.</exception>
    public static IContainerRuntime Create(ContainerRuntimeOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        HostCheck.EnsureReady(options);
        Directory.CreateDirectory(options.RunDirectory);
        Directory.CreateDirectory(options.StateDirectory);
        var loggers = loggerFactory ?? NullLoggerFactory.Instance;
        var totals = options.Totals ?? SandboxTotals.ForHost();
        var logger = loggers.CreateLogger(typeof(ContainerRuntimeFactory));
        try
        {
            EngineCgroups.LimitParent(options.CgroupParent, totals);
            IsolationLog.SandboxTotalsSet(logger, options.CgroupParent, totals.Pids, totals.MemoryBytes >> 20);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Each sandbox still has its own limits; only the bound on all of them together is missing.
            IsolationLog.SandboxTotalsFailed(logger, options.CgroupParent, e.Message);
        }

        return new RuntimeChoice(options, CreateOne(options, loggers), gvisor => CreateOne(gvisor, loggers));
    }

    private static OciContainerRuntime CreateOne(ContainerRuntimeOptions options, ILoggerFactory loggerFactory) =>
        new(options, AgentFiles.Prepare(options), loggerFactory);

    /// <summary>
    /// Removes what the sandboxes of a previous engine run left behind (overlay mounts, bundles, network namespaces,
    /// cgroups) under <paramref name="options"/>' directories. Call once at engine start, before the first sandbox;
    /// returns the ids of the sandboxes cleaned up (they did not survive the engine).
    /// </summary>
    public static Task<IReadOnlyList<string>> RemoveLeftoversAsync(ContainerRuntimeOptions options, ILoggerFactory? loggerFactory, CancellationToken ct) =>
        RemoveLeftoversAsync(options, loggerFactory, new HashSet<string>(), ct);

    /// <summary>As <see cref="RemoveLeftoversAsync(ContainerRuntimeOptions, ILoggerFactory?, CancellationToken)"/>, keeping the
    /// containers in <paramref name="adopted"/> (sandboxes this engine adopted from the one before).</summary>
    public static Task<IReadOnlyList<string>> RemoveLeftoversAsync(ContainerRuntimeOptions options, ILoggerFactory? loggerFactory,
        IReadOnlySet<string> adopted, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(typeof(ContainerRuntimeFactory));
        return Leftovers.RemoveAsync(options, adopted, logger, ct);
    }
}
