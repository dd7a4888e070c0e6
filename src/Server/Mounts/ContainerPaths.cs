using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Mounts;

/// <summary>
/// Resolves a path a caller names inside a sandbox against a directory descriptor of the sandbox's root, never
/// leaving it: symlinks (absolute ones too) resolve inside that root, ".." stops at it and magic links (/proc/*/fd)
/// are refused, so a sandbox that plants links cannot make the engine, which is host root, act outside it.
/// </summary>
internal static class ContainerPaths
{
    /// <summary>The absolute, normalized form of <paramref name="path"/>; INVALID_ARGUMENT for a relative path, "/" or "..".</summary>
    public static string Normalize(string path, string what)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            throw EngineException.Invalid($"{what} '{path}' must be an absolute path.");
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Contains(".."))
        {
            throw EngineException.Invalid($"{what} '{path}' must not contain '..'.");
        }

        if (parts.Length == 0)
        {
            throw EngineException.Invalid($"{what} '{path}' is the root directory; name a directory below it.");
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>An O_PATH descriptor of the directory at <paramref name="path"/> (normalized) under <paramref name="rootFd"/>.</summary>
    /// <exception cref="EngineException">NOT_FOUND when missing, INVALID_ARGUMENT when not a directory.</exception>
    public static int OpenDirectory(int rootFd, string path, ulong extraResolve = 0)
    {
        var fd = MountSyscalls.TryOpenat2(rootFd, path.TrimStart('/'), MountSyscalls.OPath | MountSyscalls.ODirectory,
            MountSyscalls.ResolveInRoot | MountSyscalls.ResolveNoMagicLinks | extraResolve);
        return fd switch
        {
            >= 0 => fd,
            -MountSyscalls.Enoent => throw EngineException.NotFound($"'{path}' does not exist in the sandbox."),
            -MountSyscalls.Enotdir => throw EngineException.Invalid($"'{path}' is not a directory."),
            _ => throw new MountCallException("openat2 " + path, -fd),
        };
    }

    /// <summary>
    /// As <see cref="OpenDirectory"/>, creating missing directories (mode 755, owned like the sandbox's root
    /// directory, so root inside the sandbox owns them).
    /// </summary>
    public static int OpenOrCreateDirectory(int rootFd, string path)
    {
        var (uid, gid) = MountSyscalls.OwnerOf(rootFd);
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var parent = MountSyscalls.TryOpenat2(rootFd, ".", MountSyscalls.OPath | MountSyscalls.ODirectory, MountSyscalls.ResolveInRoot);
        for (var i = 0; i < parts.Length; i++)
        {
            var prefix = string.Join('/', parts[..(i + 1)]);
            var next = MountSyscalls.TryOpenat2(rootFd, prefix, MountSyscalls.OPath | MountSyscalls.ODirectory,
                MountSyscalls.ResolveInRoot | MountSyscalls.ResolveNoMagicLinks);
            if (next == -MountSyscalls.Enoent)
            {
                // mkdirat needs a real directory descriptor of the parent, reached the same confined way.
                var writable = MountSyscalls.TryOpenat2(rootFd, i == 0 ? "." : string.Join('/', parts[..i]), MountSyscalls.ODirectory,
                    MountSyscalls.ResolveInRoot | MountSyscalls.ResolveNoMagicLinks);
                if (writable < 0)
                {
                    MountSyscalls.Close(parent);
                    throw new MountCallException("open " + prefix, -writable);
                }

                try
                {
                    if (MountSyscalls.MakeDirectory(writable, parts[i], 0b111_101_101))
                    {
                        MountSyscalls.Chown(writable, parts[i], uid, gid);
                    }
                }
                finally
                {
                    MountSyscalls.Close(writable);
                }

                next = MountSyscalls.TryOpenat2(rootFd, prefix, MountSyscalls.OPath | MountSyscalls.ODirectory,
                    MountSyscalls.ResolveInRoot | MountSyscalls.ResolveNoMagicLinks);
            }

            MountSyscalls.Close(parent);
            if (next < 0)
            {
                throw next == -MountSyscalls.Enotdir
                    ? EngineException.Invalid($"'/{prefix}' is not a directory.")
                    : new MountCallException("openat2 /" + prefix, -next);
            }

            parent = next;
        }

        return parent;
    }
}
