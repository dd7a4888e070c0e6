namespace TypedSandbox;

/// <summary>How a sidecar container starts (see <see cref="SandboxSidecars.CreateAsync"/>).</summary>
public sealed record SidecarCreateOptions
{
    /// <summary>Its main process; empty = it idles until terminated, running only what is exec'd in it.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>Environment variables of its processes, over its image's.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Default working directory of its processes; null = its image's.</summary>
    public string? Workdir { get; init; }

    /// <summary>Its memory limit in MiB (at most the sandbox's); null = the sandbox's own limit.</summary>
    public int? MemoryMb { get; init; }
}
