using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Mounts;

/// <summary>
/// Volume <c>subPath</c> mounts: only one directory of a volume is bound into the sandbox. Volumes are written by
/// sandboxes, so the sub path is resolved beneath the volume's root with no symlink anywhere in it (openat2
/// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, no other mount): a link planted by another sandbox is refused, never followed,
/// and the directory checked is the one mounted (<see cref="SubPathPins"/>), not whatever its name leads to later.
/// </summary>
internal static class VolumeSubPath
{
    /// <summary>The sub path's relative, normalized form; INVALID_ARGUMENT for an absolute path, '..' or nothing.</summary>
    public static string Normalize(string subPath)
    {
        if (subPath.StartsWith('/'))
        {
            throw EngineException.Invalid($"Volume sub path '{subPath}' must be relative to the volume's root.");
        }

        var parts = subPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Contains(".."))
        {
            throw EngineException.Invalid($"Volume sub path '{subPath}' must not contain '..'.");
        }

        return parts.Length == 0
            ? throw EngineException.Invalid($"Volume sub path '{subPath}' names no directory.")
            : string.Join('/', parts);
    }

    /// <summary>
    /// The host directory to bind for <paramref name="subPath"/> of the volume at <paramref name="volumeDirectory"/>:
    /// the checked directory itself, pinned in <paramref name="pins"/> until the sandbox runs.
    /// </summary>
    /// <exception cref="EngineException">A symlink or another mount on the way (INVALID_ARGUMENT), or no such directory (NOT_FOUND).</exception>
    public static string Resolve(string volumeDirectory, string? subPath, SubPathPins pins)
    {
        ArgumentNullException.ThrowIfNull(pins);
        if (subPath is null)
        {
            return volumeDirectory;
        }

        var relative = Normalize(subPath);
        var root = MountSyscalls.Open(volumeDirectory, MountSyscalls.OPath | MountSyscalls.ODirectory);
        try
        {
            var fd = MountSyscalls.TryOpenat2(root, relative, MountSyscalls.OPath | MountSyscalls.ODirectory,
                MountSyscalls.ResolveBeneath | MountSyscalls.ResolveNoSymlinks | MountSyscalls.ResolveNoMagicLinks | MountSyscalls.ResolveNoXdev);
            if (fd >= 0)
            {
                try
                {
                    return pins.Pin(volumeDirectory, fd);
                }
                finally
                {
                    MountSyscalls.Close(fd);
                }
            }

            throw -fd switch
            {
                MountSyscalls.Enoent => EngineException.NotFound($"Volume sub path '{relative}' does not exist in the volume; create it first."),
                MountSyscalls.Enotdir => EngineException.Invalid($"Volume sub path '{relative}' is not a directory."),
                MountSyscalls.Eloop or MountSyscalls.Exdev => EngineException.Invalid(
                    $"Volume sub path '{relative}' passes through a symlink or another mount; only plain directories of the volume can be mounted."),
                _ => new MountCallException("openat2 " + relative, -fd),
            };
        }
        finally
        {
            MountSyscalls.Close(root);
        }
    }
}
