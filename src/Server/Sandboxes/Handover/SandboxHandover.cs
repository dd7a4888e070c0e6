using System.Text.Json;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Sandboxes.Handover;

/// <summary>
/// A running sandbox as the engine that stopped left it for the next one (<c>--keep-sandboxes</c>): what it was created
/// with, its container, and its processes with their output. Saved as <c>sandbox.json</c> plus one file per output
/// stream in a directory of the state directory's <c>handover</c> folder, which only root can read (it holds the
/// sandbox's environment, secrets included, and the key of its agent's channel).
/// </summary>
internal sealed record SandboxHandover
{
    /// <summary>The layout's version; an engine refuses (and terminates) a handover of another.</summary>
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;
    public required string SandboxId { get; init; }
    public required string TaskId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset LastActivity { get; init; }
    public required SpecHandover Spec { get; init; }
    public required ContainerHandover Container { get; init; }
    public uint NextStdinIndex { get; init; } = 1;
    public long EntrypointStdinOffset { get; init; }
    public IReadOnlyList<ExecHandover> Execs { get; init; } = [];

    /// <summary>The host port of each tunnelled container port: the adopting engine listens on the same ones when it can.</summary>
    public IReadOnlyDictionary<int, int> TunnelHostPorts { get; init; } = new Dictionary<int, int>();

    private const string StateFile = "sandbox.json";

    /// <summary>The file of one output stream of process <paramref name="channelId"/> (1 = stdout, 2 = stderr).</summary>
    public static string OutputFile(string directory, uint channelId, int stream) =>
        Path.Combine(directory, $"{channelId}.{(stream == 1 ? "stdout" : "stderr")}");

    /// <summary>Writes the state file last: a directory without it is a handover that did not finish.</summary>
    public async Task SaveAsync(string directory, CancellationToken ct)
    {
        var file = CreatePrivateFile(Path.Combine(directory, StateFile));
        await using (file.ConfigureAwait(false))
        {
            await JsonSerializer.SerializeAsync(file, this, cancellationToken: ct).ConfigureAwait(false);
        }
    }

    /// <summary>Creates a new file only its owner (root) can read and write.</summary>
    public static FileStream CreatePrivateFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(path, options);
    }

    /// <summary>Reads a handover; null when its state file is missing (the handover did not finish).</summary>
    /// <exception cref="InvalidDataException">The file is not a handover of this layout.</exception>
    public static async Task<SandboxHandover?> LoadAsync(string directory, CancellationToken ct)
    {
        var path = Path.Combine(directory, StateFile);
        if (!File.Exists(path))
        {
            return null;
        }

        SandboxHandover? state;
        var file = File.OpenRead(path);
        await using (file.ConfigureAwait(false))
        {
            try
            {
                state = await JsonSerializer.DeserializeAsync<SandboxHandover>(file, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path} is not a sandbox handover: {e.Message}", e);
            }
        }

        return state is { Version: CurrentVersion } ? state : throw new InvalidDataException($"{path} has layout version {state?.Version}; this engine reads {CurrentVersion}.");
    }
}

/// <summary>One process of a handed-over sandbox: its exec id (null for the entrypoint), when it finished, and its state.</summary>
internal sealed record ExecHandover(string? ExecId, DateTimeOffset? FinishedAt, ProcessHandover Process);

/// <summary>The parts of a <see cref="SandboxSpec"/> an adopted sandbox still needs (its rules, names, tags and timeouts).</summary>
internal sealed record SpecHandover
{
    public required string AppId { get; init; }
    public required string ImageId { get; init; }
    public IReadOnlyList<string> EntrypointArgs { get; init; } = [];
    public TimeSpan Timeout { get; init; }
    public TimeSpan? IdleTimeout { get; init; }
    public string? Workdir { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<VolumeMountSpec> Volumes { get; init; } = [];
    public uint MemoryMb { get; init; }
    public uint MilliCpu { get; init; }
    public uint EphemeralDiskMb { get; init; }
    public IReadOnlyList<int> Ports { get; init; } = [];
    public IReadOnlyList<string> InboundCidrs { get; init; } = [];
    public NetworkMode NetworkMode { get; init; }
    public IReadOnlyList<string> AllowedCidrs { get; init; } = [];
    public bool Restricted { get; init; }
    public string? Name { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public bool Verbose { get; init; }
    public bool V2 { get; init; }
    public SandboxRuntime Runtime { get; init; }
    public bool EnableMemorySnapshot { get; init; }

    /// <summary>
    /// True when a sandbox created with <paramref name="spec"/> can be handed over: nothing of it lives only in the
    /// engine's process (an egress proxy, an outbound policy, an exit snapshot). Tunnels are opened again by the
    /// adopting engine; whether its container can be handed over is the container's to say.
    /// </summary>
    public static bool Covers(SandboxSpec spec) =>
        spec.OutboundPolicy is null && spec.Network.Egress is null && !spec.EnableExitSnapshot;

    public static SpecHandover Of(SandboxSpec spec, IReadOnlyDictionary<string, string> tags) => new()
    {
        AppId = spec.AppId,
        ImageId = spec.ImageId,
        EntrypointArgs = spec.EntrypointArgs,
        Timeout = spec.Timeout,
        IdleTimeout = spec.IdleTimeout,
        Workdir = spec.Workdir,
        Environment = spec.Environment,
        Volumes = spec.Volumes,
        Ports = spec.Ports,
        InboundCidrs = spec.InboundCidrs,
        MemoryMb = spec.MemoryMb,
        MilliCpu = spec.MilliCpu,
        EphemeralDiskMb = spec.EphemeralDiskMb,
        NetworkMode = spec.Network.Mode,
        AllowedCidrs = spec.Network.AllowedCidrs,
        Restricted = spec.Network.Restricted,
        Name = spec.Name,
        Tags = tags,
        Verbose = spec.Verbose,
        V2 = spec.V2,
        Runtime = spec.Runtime,
        EnableMemorySnapshot = spec.EnableMemorySnapshot,
    };

    public SandboxSpec ToSpec() => new()
    {
        AppId = AppId,
        ImageId = ImageId,
        EntrypointArgs = EntrypointArgs,
        Timeout = Timeout,
        IdleTimeout = IdleTimeout,
        Workdir = Workdir,
        Environment = Environment,
        Volumes = Volumes,
        Ports = Ports,
        InboundCidrs = InboundCidrs,
        MemoryMb = MemoryMb,
        MilliCpu = MilliCpu,
        EphemeralDiskMb = EphemeralDiskMb,
        Network = new NetworkPolicy(NetworkMode, AllowedCidrs) { Restricted = Restricted },
        Name = Name,
        Tags = Tags,
        Verbose = Verbose,
        V2 = V2,
        Runtime = Runtime,
        EnableMemorySnapshot = EnableMemorySnapshot,
    };
}
