using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Sidecars;

/// <summary>What a sidecar container is started with; built from a protocol request by the API layer.</summary>
/// <param name="Name">Its name in the sandbox: unique among the sandbox's running sidecars.</param>
/// <param name="ImageId">Its image (already built), usually not the sandbox's.</param>
internal sealed record SidecarSpec(string Name, string ImageId)
{
    /// <summary>The most sidecars one sandbox runs at a time.</summary>
    public const int MaxRunningPerSandbox = 8;

    /// <summary>The name of the sandbox's own container, which no sidecar may take (as in Modal's SDKs).</summary>
    public const string MainContainerName = "main";

    /// <summary>Its main process; empty = it idles until terminated (execs run in it).</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Environment of its processes (secrets and env), over its image's.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Default working directory of its processes; null = its image's.</summary>
    public string? Workdir { get; init; }

    /// <summary>Its memory limit in MiB; 0 = the sandbox's own limit (it may not exceed it).</summary>
    public long MemoryMb { get; init; }

    /// <summary>Throws INVALID_ARGUMENT naming the rule a bad name or image breaks.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Name))
        {
            throw EngineException.Invalid("A sidecar needs a name.");
        }

        if (Name == MainContainerName)
        {
            throw EngineException.Invalid($"The name '{MainContainerName}' is reserved for the sandbox's main container.");
        }

        if (Name.Length > 63 || !Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw EngineException.Invalid($"Sidecar name '{Name}' is invalid; use at most 63 letters, digits, '-', '_' and '.'.");
        }

        if (string.IsNullOrEmpty(ImageId))
        {
            throw EngineException.Invalid("A sidecar needs an image that is already built (its image_id).");
        }

        if (MemoryMb < 0)
        {
            throw EngineException.Invalid($"A sidecar's memory ({MemoryMb} MiB) must be positive.");
        }
    }
}
