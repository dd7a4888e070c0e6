using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>The engine's checks of a sandbox request, run before anything is started.</summary>
internal static class SandboxSpecRules
{
    /// <summary>Refuses a spec the engine will not run, with INVALID_ARGUMENT and the rule's message.</summary>
    public static void Validate(SandboxSpec spec)
    {
        if (spec.Timeout <= TimeSpan.Zero || spec.Timeout > EngineRules.MaxTimeout)
        {
            throw EngineException.Invalid($"Sandbox timeout {spec.Timeout.TotalSeconds:0} s is out of range; it must be more than 0 s and at most 24 h (86400 s).");
        }

        if (spec.IdleTimeout is { } idleTimeout && idleTimeout > spec.Timeout)
        {
            throw EngineException.Invalid($"Idle timeout {idleTimeout.TotalSeconds:0} s is longer than the sandbox timeout {spec.Timeout.TotalSeconds:0} s.");
        }

        if (spec.IdleTimeout is { } idle && (idle <= TimeSpan.Zero || idle > EngineRules.MaxTimeout))
        {
            throw EngineException.Invalid($"Idle timeout {idle.TotalSeconds:0} s is out of range; it must be more than 0 s and at most 24 h.");
        }

        if (spec.Name is not null)
        {
            EngineRules.Require(EngineRules.CheckObjectName(spec.Name, "Sandbox name"));
        }

        if (spec.Workdir is not null)
        {
            EngineRules.Require(EngineRules.CheckWorkdir(spec.Workdir, "Workdir"));
        }

        foreach (var key in spec.Environment.Keys)
        {
            EngineRules.Require(EngineRules.CheckEnvironmentKey(key));
        }

        var mountPaths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var volume in spec.Volumes)
        {
            EngineRules.Require(EngineRules.CheckMountPath(volume.MountPath));
            if (!mountPaths.Add(volume.MountPath))
            {
                throw EngineException.Invalid($"Two volumes are mounted at '{volume.MountPath}'.");
            }
        }

        // The kernel's floors: the memory cgroup needs a few MiB, and a CFS quota is at least 1 ms per 100 ms period.
        if (spec.MemoryMb is > 0 and < 4)
        {
            throw EngineException.Invalid($"Memory {spec.MemoryMb} MiB is below the 4 MiB minimum.");
        }

        if (spec.MilliCpu is > 0 and < 10)
        {
            throw EngineException.Invalid($"CPU {spec.MilliCpu / 1000.0:0.###} is below the minimum of 0.01 CPU.");
        }

        // A limit above what the host has is no limit at all: refuse it rather than promise it.
        if (spec.MemoryMb > HostCapacity.MemoryMiB)
        {
            throw EngineException.Invalid($"Memory {spec.MemoryMb} MiB is more than this host has ({HostCapacity.MemoryMiB} MiB).");
        }

        if (spec.MilliCpu > HostCapacity.Cores * 1000L)
        {
            throw EngineException.Invalid($"CPU {spec.MilliCpu / 1000.0:0.###} is more than this host's {HostCapacity.Cores} cores.");
        }

        var ports = new HashSet<int>();
        foreach (var port in spec.Ports)
        {
            if (port is < 1 or > 65535)
            {
                throw EngineException.Invalid($"Port {port} is not a TCP port (1-65535).");
            }

            if (!ports.Add(port))
            {
                throw EngineException.Invalid($"Port {port} is declared twice; list each port once (encrypted, unencrypted or h2).");
            }
        }

        ValidateTags(spec.Tags);
    }

    /// <summary>Checks tag keys and values.</summary>
    public static void ValidateTags(IReadOnlyDictionary<string, string> tags)
    {
        foreach (var (key, value) in tags)
        {
            EngineRules.Require(EngineRules.CheckTag(key, value));
        }
    }

    /// <summary>
    /// The runtime follows the image's symlinks when it mounts: a volume at <c>/data</c> of an image where
    /// <c>/data -> /proc</c> (or the agent's directory) would cover what the sandbox's runtime owns.
    /// </summary>
    public static void RequireSafeDestination(ImageRecord image, string mountPath)
    {
        var resolved = ImagePaths.Resolve(image.LayerDirs, mountPath);
        if (resolved is null)
        {
            throw EngineException.Invalid($"Volume mount '{mountPath}' cannot be resolved in image {image.ImageId}: its symbolic links loop.");
        }

        if (!string.Equals(resolved, mountPath, StringComparison.Ordinal) && EngineRules.CheckMountPath(resolved) is { } problem)
        {
            throw EngineException.Invalid(
                $"Volume mount '{mountPath}' leads through image {image.ImageId}'s symbolic links to '{resolved}': {problem}. " +
                "Mount the volume at a path that is no symbolic link to such a place.");
        }
    }
}
