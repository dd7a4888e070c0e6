using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Mounts;

/// <summary>
/// Modal's <c>mountImage</c>/<c>unmountImage</c>: an image's tree appears read-only (nosuid, nodev) at a path of a
/// running sandbox, or an empty writable directory when no image is named. The engine builds the mount on the host
/// as a detached tree (open_tree of a single layer, or a lower-only overlay of the layers through fsopen), resolves
/// the target through the sandbox's root without leaving it (<see cref="ContainerPaths"/>), and attaches the tree
/// with move_mount from a dedicated thread that alone enters the sandbox's mount namespace (unshare(CLONE_FS), then
/// setns) and ends with the call: no process and no binary of the sandbox runs on the host's behalf, and nothing is
/// mounted in the host's namespace. gVisor (runsc) sandboxes see no host mount namespace: there the image reaches the
/// sandbox through its image share and the agent binds it inside gVisor's kernel (SandboxMounts.Gvisor.cs).
/// </summary>
internal sealed partial class SandboxMounts(ImageBuilds images, ILogger<SandboxMounts> logger)
{
    // An empty directory is a tmpfs: its pages are charged to the sandbox's memory cgroup, and it has a size cap.
    private const string EmptyDirectorySize = "256m";
    private readonly ConditionalWeakTable<SandboxSession, MountTable> _tables = new();

    /// <summary>Mounts image <paramref name="imageId"/> (null or empty: an empty directory) at <paramref name="path"/>.</summary>
    /// <exception cref="EngineException">A bad path (INVALID_ARGUMENT), a finished or memory-snapshot gVisor sandbox, or a path
    /// already mounted (FAILED_PRECONDITION).</exception>
    public async Task MountImageAsync(SandboxSession session, string path, string? imageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var target = ContainerPaths.Normalize(path, "Mount path");
        var resources = RequireMountable(session, "mountImage");
        var layers = string.IsNullOrEmpty(imageId) ? null : (await images.GetReadyAsync(imageId, cancellationToken).ConfigureAwait(false)).LayerDirs;
        var table = _tables.GetOrCreateValue(session);
        await table.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (table.Mounted.ContainsKey(target))
            {
                throw EngineException.Precondition($"An image is already mounted at '{target}'; unmount it first.");
            }

            if (resources.Flavor == RuntimeFlavor.Runsc)
            {
                if (session.Spec.EnableMemorySnapshot)
                {
                    // A checkpoint would record a bind of this sandbox's image share, which a restore does not recreate.
                    throw EngineException.Precondition(
                        $"Sandbox {session.Id} has memory snapshots enabled, and a gVisor checkpoint does not keep images mounted after start: " +
                        "create the sandbox without experimentalEnableSnapshot to use mountImage.");
                }

                table.Mounted[target] = await MountInGvisorAsync(resources, target, layers, table, cancellationToken).ConfigureAwait(false);
                LogMounted(session.Id, string.IsNullOrEmpty(imageId) ? "(empty directory)" : imageId, target);
                return;
            }

            var pid = await InitPidAsync(session, resources, cancellationToken).ConfigureAwait(false);
            using var root = new Descriptor(MountSyscalls.Open($"/proc/{pid}/root", MountSyscalls.OPath | MountSyscalls.ODirectory));
            using var tree = new Descriptor(layers is null ? EmptyDirectory(root.Fd) : ReadOnlyTree(layers));
            using var directory = new Descriptor(ContainerPaths.OpenOrCreateDirectory(root.Fd, target));
            var mountId = MountSyscalls.MountIdOf(tree.Fd);
            await InMountNamespaceAsync(pid, () => MountSyscalls.MoveMount(tree.Fd, directory.Fd)).ConfigureAwait(false);
            table.Mounted[target] = mountId;
            LogMounted(session.Id, string.IsNullOrEmpty(imageId) ? "(empty directory)" : imageId, target);
        }
        finally
        {
            table.Gate.Release();
        }
    }

    /// <summary>Unmounts what <see cref="MountImageAsync"/> mounted at <paramref name="path"/>.</summary>
    /// <exception cref="EngineException">Nothing of ours is mounted there (NOT_FOUND), or the sandbox cannot take it (FAILED_PRECONDITION).</exception>
    public async Task UnmountImageAsync(SandboxSession session, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var target = ContainerPaths.Normalize(path, "Mount path");
        var resources = RequireMountable(session, "unmountImage");
        var table = _tables.GetOrCreateValue(session);
        await table.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!table.Mounted.TryGetValue(target, out var mountId))
            {
                throw EngineException.NotFound($"No image is mounted at '{target}' (mount one with mountImage first).");
            }

            if (resources.Flavor == RuntimeFlavor.Runsc)
            {
                await UnmountInGvisorAsync(resources, target, mountId, cancellationToken).ConfigureAwait(false);
                table.Mounted.Remove(target, out _);
                LogUnmounted(session.Id, target);
                return;
            }

            var pid = await InitPidAsync(session, resources, cancellationToken).ConfigureAwait(false);
            using var root = new Descriptor(MountSyscalls.Open($"/proc/{pid}/root", MountSyscalls.OPath | MountSyscalls.ODirectory));
            using var directory = new Descriptor(ContainerPaths.OpenDirectory(root.Fd, target));
            // The sandbox may have moved things around: only the very mount we made is detached.
            if (MountSyscalls.MountIdOf(directory.Fd) != mountId)
            {
                throw EngineException.Precondition($"'{target}' no longer leads to the image mounted there.");
            }

            await InMountNamespaceAsync(pid, () => MountSyscalls.DetachMountAt(directory.Fd)).ConfigureAwait(false);
            table.Mounted.Remove(target, out _);
            LogUnmounted(session.Id, target);
        }
        finally
        {
            table.Gate.Release();
        }
    }

    private static SandboxResources RequireMountable(SandboxSession session, string operation)
    {
        var container = session.RequireRunning();
        if (container is not ContainerHandle { Resources: var resources })
        {
            throw EngineException.Precondition($"{operation} needs a sandbox run by an OCI runtime.");
        }

        return resources;
    }

    private static int ReadOnlyTree(IReadOnlyList<string> layers)
    {
        // One layer: a bind of it. More: a lower-only overlay ("lowerdir+" adds one layer each, top first).
        var tree = layers.Count == 1
            ? MountSyscalls.OpenTreeClone(MountSyscalls.AtFdCwd, layers[0], emptyPath: false)
            : MountSyscalls.CreateFilesystem("overlay", layers.Select(l => new KeyValuePair<string, string>("lowerdir+", l)));
        try
        {
            MountSyscalls.SetAttributes(tree, MountSyscalls.MountAttrReadOnly | MountSyscalls.MountAttrNoSuid | MountSyscalls.MountAttrNoDev);
            return tree;
        }
        catch
        {
            MountSyscalls.Close(tree);
            throw;
        }
    }

    private static int EmptyDirectory(int rootFd)
    {
        var (uid, gid) = MountSyscalls.OwnerOf(rootFd);
        var tree = MountSyscalls.CreateFilesystem("tmpfs",
        [
            new("size", EmptyDirectorySize), new("mode", "0755"),
            new("uid", uid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("gid", gid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ]);
        MountSyscalls.SetAttributes(tree, MountSyscalls.MountAttrNoSuid | MountSyscalls.MountAttrNoDev);
        return tree;
    }

    private static async Task<int> InitPidAsync(SandboxSession session, SandboxResources resources, CancellationToken ct)
    {
        var state = await resources.RunRuntimeAsync(["--root", resources.RuntimeRoot, "state", resources.Id], ct).ConfigureAwait(false);
        if (!state.Succeeded)
        {
            throw EngineException.Precondition($"Sandbox {session.Id} is not running ({state.Stderr.Trim()}).");
        }

        using var json = JsonDocument.Parse(state.Stdout);
        return json.RootElement.GetProperty("pid").GetInt32();
    }

    // setns(CLONE_NEWNS) needs a thread that shares no filesystem context: a thread of its own, which ends with the call.
    private static Task InMountNamespaceAsync(int pid, Action action)
    {
        var namespaceFd = MountSyscalls.Open($"/proc/{pid}/ns/mnt", 0);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                MountSyscalls.EnterMountNamespace(namespaceFd);
                action();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
            finally
            {
                MountSyscalls.Close(namespaceFd);
            }
        })
        { IsBackground = true, Name = "sandbox mount namespace" };
        thread.UnsafeStart();
        return done.Task;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: mounted {ImageId} at {Path}")]
    private partial void LogMounted(string sandboxId, string imageId, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: unmounted {Path}")]
    private partial void LogUnmounted(string sandboxId, string path);

    private sealed class MountTable
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        // crun: the mount's id; gVisor: the image share entry (0: an empty directory).
        public ConcurrentDictionary<string, ulong> Mounted { get; } = new(StringComparer.Ordinal);

        /// <summary>gVisor: the last image share entry handed out (entries are never reused).</summary>
        public ulong ShareEntries { get; set; }
    }

    private readonly struct Descriptor(int fd) : IDisposable
    {
        public int Fd { get; } = fd;

        public void Dispose() => MountSyscalls.Close(Fd);
    }
}
