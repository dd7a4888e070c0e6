using Microsoft.Extensions.Logging;
using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Removes what sandboxes of an engine that died left on the host. Their processes are already gone (the agent ends
/// its sandbox when the engine's end of its channel closes, slirp4netns when its exit pipe closes), but overlay
/// mounts, bundles, network namespaces and cgroups stay until someone removes them.
/// </summary>
internal static class Leftovers
{
    public static async Task<IReadOnlyList<string>> RemoveAsync(ContainerRuntimeOptions options, ILogger logger, CancellationToken ct)
    {
        var spilled = SpillFiles.RemoveLeftovers(Path.Combine(options.StateDirectory, "spill"));
        if (spilled > 0) IsolationLog.SpillFilesRemoved(logger, spilled);
        RemoveOrphanWritableLayers(options, logger);
        var bundles = Path.Combine(options.StateDirectory, "bundles");
        if (!Directory.Exists(bundles)) return [];
        var flavor = RuntimeCommands.FlavorOf(options.Runtime);
        var binary = HostCheck.FindExecutable(options.Runtime) ?? options.Runtime;
        var removed = new List<string>();
        foreach (var bundle in Directory.GetDirectories(bundles))
        {
            var id = Path.GetFileName(bundle);
            var resources = new SandboxResources(id, bundle, flavor, binary, Path.Combine(options.RunDirectory, flavor.ToString().ToLowerInvariant()),
                $"/{options.CgroupParent}/{id}", logger)
            {
                WritableDirectory = options.Quota?.SandboxDirectory(id),
                OverlayMounted = File.ReadAllText("/proc/mounts").Contains(" " + Path.Combine(bundle, "rootfs") + " ", StringComparison.Ordinal),
                Network = File.Exists($"/run/netns/tsb-{id}") ? SandboxNetwork.Adopt($"tsb-{id}", logger) : null,
            };
            await resources.CleanupAsync().WaitAsync(ct).ConfigureAwait(false);
            removed.Add(id);
        }
        return removed;
    }

    /// <summary>Writable layers without a bundle (the engine died between removing one and the other).</summary>
    private static void RemoveOrphanWritableLayers(ContainerRuntimeOptions options, ILogger logger)
    {
        if (options.Quota is not { } quota) return;
        foreach (var writable in Directory.GetDirectories(quota.SandboxesDirectory))
        {
            if (Directory.Exists(Path.Combine(options.StateDirectory, "bundles", Path.GetFileName(writable)))) continue;
            try
            {
                Directory.Delete(writable, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                IsolationLog.CleanupFailed(logger, "writable layer " + writable, e.Message);
            }
        }
    }
}
