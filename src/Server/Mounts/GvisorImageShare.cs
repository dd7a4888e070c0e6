using TypedSandbox.Agent.Protocol;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Mounts;

/// <summary>
/// A gVisor sandbox's image share: an empty host directory in its bundle, bind-mounted onto itself with shared
/// propagation before runsc starts and given to the sandbox read-only at <see cref="AgentLayout.ImageShareMountPoint"/>.
/// runsc's gofer copies the host's mounts into its own namespace as slaves of these, so an image the engine mounts
/// under the share later reaches the gofer, and gVisor revalidates such a (non-root) mount against the host
/// (<c>--file-access-mounts=shared</c>, runsc's default): the sandbox sees it without a restart. The share holds only
/// the images mounted into this very sandbox, each read-only on the host as well.
/// </summary>
internal static class GvisorImageShare
{
    private const string DirectoryName = "image-share";

    /// <summary>The share's host directory for the sandbox whose bundle is <paramref name="bundle"/>.</summary>
    public static string HostPath(string bundle) => Path.Combine(bundle, DirectoryName);

    /// <summary>Makes the share and returns the bind mount that puts it into the sandbox.</summary>
    public static BindMount Prepare(string bundle)
    {
        var path = HostPath(bundle);
        Directory.CreateDirectory(path);
        MountSyscalls.BindSharedOntoItself(path);
        return new BindMount(path, AgentLayout.ImageShareMountPoint, ReadOnly: true);
    }

    /// <summary>Detaches the share and every image under it (lazily; nothing to do when there is none).</summary>
    public static void Release(string bundle)
    {
        var path = HostPath(bundle);
        if (Directory.Exists(path))
        {
            _ = MountSyscalls.Detach(path);
        }
    }

    /// <summary>Attaches the detached tree <paramref name="treeFd"/> as share entry <paramref name="name"/>.</summary>
    public static void Attach(string bundle, string name, int treeFd)
    {
        var entry = Path.Combine(HostPath(bundle), name);
        Directory.CreateDirectory(entry);
        var directory = MountSyscalls.Open(entry, MountSyscalls.OPath | MountSyscalls.ODirectory);
        try
        {
            MountSyscalls.MoveMount(treeFd, directory);
        }
        finally
        {
            MountSyscalls.Close(directory);
        }
    }

    /// <summary>Detaches share entry <paramref name="name"/> and removes its directory.</summary>
    public static void Remove(string bundle, string name)
    {
        var entry = Path.Combine(HostPath(bundle), name);
        _ = MountSyscalls.Detach(entry);
        Directory.Delete(entry);
    }

    /// <summary>The entry's path inside the sandbox.</summary>
    public static string InSandbox(string name) => AgentLayout.ImageShareMountPoint + "/" + name;
}
