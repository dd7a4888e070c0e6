using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Removes what sandboxes of an engine that died left on the host. Their processes are already gone (the agent ends
/// its sandbox when the engine's end of its channel closes, slirp4netns when its exit pipe closes), but overlay
/// mounts, bundles, network namespaces, cgroups and (crun and runsc run detached) the runtime's container state stay
/// until someone removes them: each bundle's cleanup ends with the runtime's <c>delete --force</c>, as a terminate does. Cgroups and namespaces whose
/// bundle is already gone (the engine died between removing one and the other) are swept too; as every engine on the
/// host shares the cgroup parent and the <c>tsb-</c> prefix, only those no process uses and older than
/// <see cref="OrphanGrace"/> are taken, so a neighbouring engine's sandbox that is starting this very moment keeps its own.
/// </summary>
internal static class Leftovers
{
    /// <summary>How old an unused cgroup or network namespace without a bundle must be before it counts as left over.</summary>
    internal static readonly TimeSpan OrphanGrace = TimeSpan.FromSeconds(5);

    /// <summary>The name prefix of the network namespaces of sandboxes (<see cref="SandboxNetwork"/>).</summary>
    internal const string NamespacePrefix = "tsb-";

    public static Task<IReadOnlyList<string>> RemoveAsync(ContainerRuntimeOptions options, ILogger logger, CancellationToken ct) =>
        RemoveAsync(options, new HashSet<string>(), logger, ct);

    /// <summary>Removes the leftovers of sandboxes of the engine before, but those in <paramref name="adopted"/> (they run on).</summary>
    public static async Task<IReadOnlyList<string>> RemoveAsync(ContainerRuntimeOptions options, IReadOnlySet<string> adopted, ILogger logger, CancellationToken ct)
    {
        var spilled = SpillFiles.RemoveLeftovers(Path.Combine(options.StateDirectory, "spill"));
        if (spilled > 0)
        {
            IsolationLog.SpillFilesRemoved(logger, spilled);
        }

        await RemoveOrphanWritableLayersAsync(options, logger, ct).ConfigureAwait(false);
        var removed = await RemoveBundlesAsync(options, adopted, logger, ct).ConfigureAwait(false);
        var cutoff = options.Clock.GetUtcNow().UtcDateTime - OrphanGrace;
        RemoveOrphanCgroups(options, cutoff, logger);
        await RemoveOrphanNamespacesAsync(cutoff, logger, ct).ConfigureAwait(false);
        return removed;
    }

    private static async Task<IReadOnlyList<string>> RemoveBundlesAsync(ContainerRuntimeOptions options, IReadOnlySet<string> adopted, ILogger logger, CancellationToken ct)
    {
        var bundles = Path.Combine(options.StateDirectory, "bundles");
        if (!Directory.Exists(bundles))
        {
            return [];
        }

        var flavor = RuntimeCommands.FlavorOf(options.Runtime);
        var binary = HostCheck.FindExecutable(options.Runtime) ?? options.Runtime;
        var removed = new List<string>();
        foreach (var bundle in Directory.GetDirectories(bundles))
        {
            var id = Path.GetFileName(bundle);
            if (adopted.Contains(id))
            {
                continue;
            }

            var resources = new SandboxResources(id, bundle, flavor, binary, RuntimeRootOf(options, flavor, id), $"/{options.CgroupParent}/{id}", logger)
            {
                WritableDirectory = options.Quota?.SandboxDirectory(id),
                OverlayMounted = File.ReadAllText("/proc/mounts").Contains(" " + Path.Combine(bundle, "rootfs") + " ", StringComparison.Ordinal),
                Network = File.Exists($"/run/netns/{NamespacePrefix}{id}") ? SandboxNetwork.Adopt(NamespacePrefix + id, logger) : null,
            };
            await resources.CleanupAsync().WaitAsync(ct).ConfigureAwait(false);
            removed.Add(id);
        }
        return removed;
    }

    /// <summary>Where a sandbox's runtime state is: runsc launched in a user namespace keeps it under its own root.</summary>
    private static string RuntimeRootOf(ContainerRuntimeOptions options, RuntimeFlavor flavor, string id)
    {
        var launched = Path.Combine(options.RunDirectory, UserNamespaceLaunch.RuntimeRootName);
        return flavor == RuntimeFlavor.Runsc && Directory.Exists(launched) && Directory.EnumerateFileSystemEntries(launched, id + "*").Any()
            ? launched
            : Path.Combine(options.RunDirectory, flavor.ToString().ToLowerInvariant());
    }

    /// <summary>Writable layers without a bundle (the engine died between removing one and the other); any depth.</summary>
    private static async Task RemoveOrphanWritableLayersAsync(ContainerRuntimeOptions options, ILogger logger, CancellationToken ct)
    {
        if (options.Quota is not { } quota)
        {
            return;
        }

        foreach (var writable in Directory.GetDirectories(quota.SandboxesDirectory))
        {
            if (Directory.Exists(Path.Combine(options.StateDirectory, "bundles", Path.GetFileName(writable))))
            {
                continue;
            }

            try
            {
                await TreeRemoval.DeleteAsync(writable, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                IsolationLog.CleanupFailed(logger, "writable layer " + writable, e.Message);
            }
        }
    }

    /// <summary>Sandbox cgroups under the engine's parent (in every hierarchy) that hold no process: their sandbox is gone.</summary>
    private static void RemoveOrphanCgroups(ContainerRuntimeOptions options, DateTime cutoff, ILogger logger)
    {
        if (!Directory.Exists("/sys/fs/cgroup"))
        {
            return;
        }

        foreach (var hierarchy in Directory.GetDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup"))
        {
            var parent = Path.Combine(hierarchy, options.CgroupParent);
            if (!Directory.Exists(parent))
            {
                continue;
            }

            foreach (var cgroup in Directory.GetDirectories(parent))
            {
                try
                {
                    if (Directory.GetLastWriteTimeUtc(cgroup) > cutoff || HoldsProcesses(cgroup))
                    {
                        continue;
                    }
                    // rmdir, deepest first: a cgroup directory goes with its control files but not with children.
                    foreach (var child in Directory.GetDirectories(cgroup, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
                    {
                        Directory.Delete(child);
                    }

                    Directory.Delete(cgroup);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Gone meanwhile (its engine removed it) or just joined by a process: not a leftover.
                    if (Directory.Exists(cgroup) && !HoldsProcesses(cgroup))
                    {
                        IsolationLog.CleanupFailed(logger, "rmdir " + cgroup, e.Message);
                    }
                }
            }
        }
    }

    private static bool HoldsProcesses(string cgroup) =>
        Directory.GetFiles(cgroup, "cgroup.procs", SearchOption.AllDirectories).Any(procs => File.ReadAllText(procs).Trim().Length > 0);

    /// <summary>Sandbox network namespaces (<c>/run/netns/tsb-*</c>) no process is in: their sandbox and slirp4netns are gone.</summary>
    private static async Task RemoveOrphanNamespacesAsync(DateTime cutoff, ILogger logger, CancellationToken ct)
    {
        const string directory = "/run/netns";
        if (!Directory.Exists(directory))
        {
            return;
        }

        var candidates = Directory.GetFiles(directory, NamespacePrefix + "*")
            .Where(path => File.GetLastWriteTimeUtc(path) <= cutoff)
            .Select(path => (Path: path, Inode: LinuxNative.InodeOf(path)))
            .Where(ns => ns.Inode != 0)
            .ToList();
        if (candidates.Count == 0)
        {
            return;
        }

        var inUse = NamespacesInUse();
        foreach (var (path, inode) in candidates)
        {
            if (inUse.Contains(inode))
            {
                continue;
            }

            await SandboxNetwork.Adopt(Path.GetFileName(path), logger).DisposeAsync().ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The inodes of the network namespaces of every process on the host.</summary>
    private static HashSet<ulong> NamespacesInUse()
    {
        var inodes = new HashSet<ulong>();
        foreach (var process in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                continue;
            }

            if (LinuxNative.InodeOf(Path.Combine(process, "ns", "net")) is var inode and not 0)
            {
                inodes.Add(inode);
            }
        }
        return inodes;
    }
}
