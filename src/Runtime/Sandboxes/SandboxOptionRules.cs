using TypedSandbox.Validation;

namespace TypedSandbox.Sandboxes;

/// <summary>
/// Checks <see cref="SandboxCreateOptions"/> and tags before they are sent, with the rule book's composite check: the
/// same messages as the analyzers at compile time and the engine at run time.
/// </summary>
internal static class SandboxOptionRules
{
    /// <summary>The sandbox timeout when none is given (Modal's default).</summary>
    public static TimeSpan DefaultTimeout => Limits.DefaultSandboxTimeout;

    /// <summary>The longest sandbox timeout Modal allows.</summary>
    public static TimeSpan MaxTimeout => Limits.MaxTimeout;

    /// <summary>Rejects options the server would reject, with messages that say what is allowed.</summary>
    /// <exception cref="InvalidArgumentException">An option is out of range or malformed; the message lists every problem.</exception>
    public static void Validate(SandboxCreateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = SandboxRules.Check(new SandboxDeclaration
        {
            Name = options.Name,
            Timeout = TimeoutSetting.FromValue(options.Timeout),
            IdleTimeout = TimeoutSetting.FromValue(options.IdleTimeout),
            Workdir = options.Workdir,
            Cpu = options.Cpu ?? 0,
            MemoryMb = options.MemoryMiB ?? 0,
            EncryptedPorts = [.. options.EncryptedPorts ?? []],
            UnencryptedPorts = [.. options.UnencryptedPorts ?? []],
            H2Ports = [.. options.H2Ports ?? []],
            BlockNetwork = options.BlockNetwork,
            CidrAllowlist = [.. options.CidrAllowlist ?? []],
            Volumes = [.. (options.Volumes?.Keys ?? []).Select(path => new VolumeDeclaration(path))],
            EnvKeys = [.. options.Env?.Keys ?? []],
            Tags = SandboxRules.TagsOf(options.Tags),
        });

        // The client's own options: limits above requests, and the writable layer's size.
        problems.Add(SandboxSettings.CheckCpu(options.CpuLimit ?? 0), Rule.Resource, "CpuLimit");
        problems.Add(SandboxSettings.CheckMemoryMb(options.MemoryLimitMiB ?? 0), Rule.Resource, "MemoryLimitMiB");
        problems.Add(options.EphemeralDiskMiB is <= 0 ? $"EphemeralDiskMiB ({options.EphemeralDiskMiB}) must be at least 1" : null, Rule.Resource, "EphemeralDiskMiB");
        problems.Add(options is { Cpu: { } cpu, CpuLimit: { } cpuLimit } && cpuLimit < cpu ? $"CpuLimit ({cpuLimit}) must not be lower than Cpu ({cpu})" : null, Rule.Resource, "CpuLimit");
        problems.Add(
            options is { MemoryMiB: { } memory, MemoryLimitMiB: { } memoryLimit } && memoryLimit < memory ? $"MemoryLimitMiB ({memoryLimit}) must not be lower than MemoryMiB ({memory})" : null,
            Rule.Resource,
            "MemoryLimitMiB");
        problems.Add(options is { BlockNetwork: true, DomainAllowlist.Count: > 0 } ? "DomainAllowlist cannot be used with BlockNetwork" : null, Rule.NetworkConflict, "DomainAllowlist");
        foreach (var (_, volume) in options.Volumes ?? new Dictionary<string, Volume>())
        {
            ArgumentNullException.ThrowIfNull(volume);
        }

        Throw(problems);
    }

    /// <summary>Checks tag keys and values with the rule book.</summary>
    /// <exception cref="InvalidArgumentException">A key or value breaks a rule.</exception>
    public static void CheckTags(IReadOnlyDictionary<string, string>? tags) =>
        Throw(SandboxRules.CheckTags(SandboxRules.TagsOf(tags)));

    /// <summary>Throws the client's exception with the rule book's messages, unchanged, when there are problems.</summary>
    /// <exception cref="InvalidArgumentException">There is at least one problem.</exception>
    public static void Throw(IReadOnlyList<Problem> problems)
    {
        if (ProblemList.Describe(problems) is { } message)
        {
            throw new InvalidArgumentException(message);
        }
    }

    /// <summary>A timeout in whole seconds, as the protocol carries it.</summary>
    /// <exception cref="InvalidArgumentException">The timeout is not a whole number of seconds, zero, negative or over 24 hours.</exception>
    internal static uint WholeSeconds(TimeSpan value, string what) =>
        Durations.CheckTimeout(value, what) is { } problem ? throw new InvalidArgumentException(problem) : (uint)value.TotalSeconds;
}
