using TypedSandbox.Errors;
using TypedSandbox.Validation;

namespace TypedSandbox.Sandboxes;

/// <summary>Checks <see cref="SandboxCreateOptions"/> and tags before they are sent.</summary>
internal static class SandboxOptionRules
{
    /// <summary>The sandbox timeout when none is given (Modal's default).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The longest sandbox timeout Modal allows.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    /// <summary>Rejects options the server would reject, with messages that say what is allowed.</summary>
    /// <exception cref="InvalidArgumentException">An option is out of range or malformed.</exception>
    public static void Validate(SandboxCreateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var timeout = options.Timeout ?? DefaultTimeout;
        WholeSeconds(timeout, "Timeout");
        if (timeout > MaxTimeout)
        {
            throw new InvalidArgumentException($"Timeout {timeout} is longer than the maximum of 24 hours.");
        }
        if (options.IdleTimeout is { } idle)
        {
            WholeSeconds(idle, "IdleTimeout");
            Rules.Enforce(SandboxSettings.CheckIdleTimeout(idle, timeout));
        }
        if (options.Workdir is { } workdir)
        {
            Rules.Enforce(Paths.CheckWorkdir(workdir, "Workdir"));
        }
        if (options.Name is { } name)
        {
            Rules.Enforce(ObjectNames.Check(name, "Sandbox name"));
        }
        foreach (var key in options.Env?.Keys ?? [])
        {
            Rules.Enforce(EnvironmentKeys.Check(key));
        }
        foreach (var (path, volume) in options.Volumes ?? new Dictionary<string, Volume>())
        {
            Rules.Enforce(Paths.CheckMountPath(path));
            ArgumentNullException.ThrowIfNull(volume);
        }
        Rules.Enforce(SandboxSettings.CheckCpu(options.Cpu ?? 0));
        Rules.Enforce(SandboxSettings.CheckCpu(options.CpuLimit ?? 0));
        Rules.Enforce(SandboxSettings.CheckMemoryMb(options.MemoryMiB ?? 0));
        Rules.Enforce(SandboxSettings.CheckMemoryMb(options.MemoryLimitMiB ?? 0));
        if (options.EphemeralDiskMiB is <= 0)
        {
            throw new InvalidArgumentException($"EphemeralDiskMiB ({options.EphemeralDiskMiB}) must be at least 1.");
        }
        if (options.Cpu is { } cpu && options.CpuLimit is { } cpuLimit && cpuLimit < cpu)
        {
            throw new InvalidArgumentException($"CpuLimit ({cpuLimit}) must not be lower than Cpu ({cpu}).");
        }
        if (options.MemoryMiB is { } memory && options.MemoryLimitMiB is { } memoryLimit && memoryLimit < memory)
        {
            throw new InvalidArgumentException($"MemoryLimitMiB ({memoryLimit}) must not be lower than MemoryMiB ({memory}).");
        }
        var ports = (options.EncryptedPorts ?? []).Concat(options.H2Ports ?? []).Concat(options.UnencryptedPorts ?? []).ToList();
        Rules.Enforce(SandboxSettings.CheckNetwork(options.BlockNetwork, options.CidrAllowlist?.Count ?? 0, ports.Count));
        foreach (var cidr in options.CidrAllowlist ?? [])
        {
            if (!System.Net.IPNetwork.TryParse(cidr, out _))
            {
                throw new InvalidArgumentException($"'{cidr}' in CidrAllowlist is not a CIDR range such as 10.0.0.0/8.");
            }
        }
        foreach (var port in ports)
        {
            Rules.Enforce(SandboxSettings.CheckPort(port));
        }
        CheckTags(options.Tags);
    }

    /// <summary>Checks tag keys and values with the shared rules.</summary>
    public static void CheckTags(IReadOnlyDictionary<string, string>? tags)
    {
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            Rules.Enforce(Validation.Tags.CheckKey(key));
            Rules.Enforce(Validation.Tags.CheckValue(key, value));
        }
    }

    internal static uint WholeSeconds(TimeSpan value, string what)
    {
        if (value <= TimeSpan.Zero || value.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new InvalidArgumentException($"{what} must be a positive whole number of seconds, got {value}.");
        }
        return (uint)value.TotalSeconds;
    }
}
