using System;

namespace TypedSandbox.Validation;

/// <summary>The defaults and limits of the rule book: the analyzers, the client and the engine read them from here only.</summary>
internal static class Limits
{
    /// <summary>The sandbox timeout used when none is given (Modal's default, 5 minutes).</summary>
    public static readonly TimeSpan DefaultSandboxTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The longest timeout a sandbox, an idle period or a command may have (24 hours).</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    /// <summary>The smallest memory limit in MiB the memory cgroup can hold a process in.</summary>
    public const int MinMemoryMb = 4;

    /// <summary>The smallest CPU share: a CFS quota of 1 ms per 100 ms period.</summary>
    public const double MinCpu = 0.01;

    /// <summary>The lowest TCP port.</summary>
    public const int MinPort = 1;

    /// <summary>The highest TCP port.</summary>
    public const int MaxPort = 65535;
}
