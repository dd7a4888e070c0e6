using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Isolation;

/// <summary>Maps a sandbox definition and its image onto what the OCI runtime starts.</summary>
internal static class SandboxContainerSpec
{
    /// <summary>The container of sandbox task <paramref name="taskId"/>, with its volumes bound at <paramref name="mounts"/>.</summary>
    public static ContainerSpec For(string taskId, SandboxSpec spec, ImageRecord image, IReadOnlyList<BindMount> mounts)
    {
        var imageEnv = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in image.Config.Env)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                imageEnv[entry[..equals]] = entry[(equals + 1)..];
            }
        }

        var defaults = ResourceLimits.Default;
        return new ContainerSpec
        {
            Id = taskId,
            LayerDirs = image.LayerDirs,
            ImageEnv = imageEnv,
            ImageWorkdir = image.Config.WorkingDir,
            Env = spec.Environment,
            Workdir = spec.Workdir,
            Entrypoint = spec.EntrypointArgs.Count == 0 ? null : new ProcessSpec(spec.EntrypointArgs) { Terminal = spec.Terminal },
            Limits = defaults with
            {
                MemoryBytes = spec.MemoryMb > 0 ? spec.MemoryMb * 1024L * 1024L : defaults.MemoryBytes,
                CpuMillicores = spec.MilliCpu > 0 ? (int)spec.MilliCpu : defaults.CpuMillicores,
                DiskBytes = spec.EphemeralDiskMb > 0 ? spec.EphemeralDiskMb * 1024L * 1024L : null,
            },
            Network = spec.Network,
            Mounts = mounts,
            Hostname = "sandbox",
            Runtime = spec.Runtime == SandboxRuntime.Gvisor || spec.EnableMemorySnapshot ? RuntimeFlavor.Runsc : null,
        };
    }
}
