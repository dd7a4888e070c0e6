using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Images;
using TypedSandbox.Validation;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>The engine's checks of a sandbox request, run before anything is started.</summary>
internal static class SandboxSpecRules
{
    /// <summary>Refuses a spec the engine will not run, with INVALID_ARGUMENT and the rule's message.</summary>
    public static void Validate(SandboxSpec spec)
    {
        EngineRules.Require(EngineRules.CheckSandbox(spec));

        // A limit above what the host has is no limit at all: refuse it rather than promise it.
        if (spec.MemoryMb > HostCapacity.MemoryMiB)
        {
            throw EngineException.Invalid($"Memory {spec.MemoryMb} MiB is more than this host has ({HostCapacity.MemoryMiB} MiB).");
        }

        if (spec.MilliCpu > HostCapacity.Cores * 1000L)
        {
            throw EngineException.Invalid($"CPU {spec.MilliCpu / 1000.0:0.###} is more than this host's {HostCapacity.Cores} cores.");
        }
    }

    /// <summary>Checks tag keys and values.</summary>
    public static void ValidateTags(IReadOnlyDictionary<string, string> tags)
    {
        EngineRules.Require(SandboxRules.CheckTags(SandboxRules.TagsOf(tags)));
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
