using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Validation;

namespace TypedSandbox.Server.Engine;

/// <summary>
/// The engine's side of the shared rule book (<c>TypedSandbox.Validation</c>, also run by the analyzers at compile
/// time): checks that throw INVALID_ARGUMENT with the rule's message.
/// </summary>
internal static class EngineRules
{
    /// <summary>The longest sandbox lifetime the engine accepts.</summary>
    public static TimeSpan MaxTimeout => Limits.MaxTimeout;

    /// <summary>The lifetime of a sandbox created without a timeout.</summary>
    public static TimeSpan DefaultTimeout => Limits.DefaultSandboxTimeout;

    /// <summary>Checks a Modal object name (apps, sandboxes, secrets, volumes).</summary>
    public static string? CheckObjectName(string name, string what) => ObjectNames.Check(name, what);

    /// <summary>Checks a working directory inside a sandbox.</summary>
    public static string? CheckWorkdir(string path, string what) => Paths.CheckWorkdir(path, what);

    /// <summary>Checks a volume mount path (absolute, canonical, not '/').</summary>
    public static string? CheckMountPath(string path) => Paths.CheckMountPath(path);

    /// <summary>Checks an environment variable name.</summary>
    public static string? CheckEnvironmentKey(string key) => EnvironmentKeys.Check(key);

    /// <summary>
    /// The rule book's composite check of a sandbox request: every problem, with the messages the client and the
    /// analyzers give for the same values. The network policy was checked when the request was translated.
    /// </summary>
    public static ProblemList CheckSandbox(SandboxSpec spec) => SandboxRules.Check(new SandboxDeclaration
    {
        Name = spec.Name,
        Timeout = TimeoutSetting.FromValue(spec.Timeout),
        IdleTimeout = TimeoutSetting.FromValue(spec.IdleTimeout),
        Workdir = spec.Workdir,
        Cpu = spec.MilliCpu / 1000.0,
        MemoryMb = spec.MemoryMb,

        // The engine keeps one list of ports; a port's message does not name its list.
        EncryptedPorts = spec.Ports,
        Volumes = [.. spec.Volumes.Select(v => new VolumeDeclaration(v.MountPath))],
        EnvKeys = [.. spec.Environment.Keys],
        Tags = SandboxRules.TagsOf(spec.Tags),
    });

    /// <summary>Throws <see cref="EngineErrorKind.InvalidArgument"/> with every message when there are problems.</summary>
    public static void Require(IReadOnlyList<Problem> problems) => Require(ProblemList.Describe(problems));

    /// <summary>Throws <see cref="EngineErrorKind.InvalidArgument"/> when <paramref name="error"/> is set.</summary>
    public static void Require(string? error)
    {
        if (error is not null)
        {
            throw EngineException.Invalid(error);
        }
    }
}
