using System.Collections.Generic;
using System.Globalization;

namespace TypedSandbox.Validation;

/// <summary>Rules that involve more than one setting of a sandbox, and its resource numbers.</summary>
internal static class SandboxSettings
{
    /// <summary>Blocking the network excludes an allow-list and tunnels.</summary>
    /// <returns><see langword="null"/> when consistent, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckNetwork(bool blockNetwork, int cidrCount, int tunnelPortCount)
    {
        if (!blockNetwork)
        {
            return null;
        }

        if (cidrCount > 0)
        {
            return "BlockNetwork blocks all traffic, so a CIDR allow-list has no effect; remove one of them";
        }

        return tunnelPortCount > 0
            ? "BlockNetwork blocks all traffic, so tunnel ports cannot be reached; remove one of them"
            : null;
    }

    /// <summary>An idle timeout cannot exceed the sandbox's timeout.</summary>
    /// <returns><see langword="null"/> when consistent, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckIdleTimeout(System.TimeSpan idleTimeout, System.TimeSpan timeout) =>
        idleTimeout <= timeout
            ? null
            : $"Idle timeout '{Durations.Format(idleTimeout)}' is longer than the sandbox timeout '{Durations.Format(timeout)}'; use at most '{Durations.Format(timeout)}'";

    /// <summary>A command timeout cannot exceed the sandbox's timeout.</summary>
    /// <returns><see langword="null"/> when consistent, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckCommandTimeout(System.TimeSpan commandTimeout, System.TimeSpan sandboxTimeout) =>
        commandTimeout <= sandboxTimeout
            ? null
            : $"Command timeout '{Durations.Format(commandTimeout)}' is longer than the sandbox timeout '{Durations.Format(sandboxTimeout)}'; use at most '{Durations.Format(sandboxTimeout)}'";

    /// <summary>CPU cores: 0 (server default), or at least <see cref="Limits.MinCpu"/>.</summary>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckCpu(double cpu)
    {
        var text = cpu.ToString(CultureInfo.InvariantCulture);
        if (cpu < 0 || double.IsNaN(cpu) || double.IsInfinity(cpu))
        {
            return $"Cpu {text} is not a number of cores; use a positive number such as 0.5 or 2, or 0 for the default";
        }

        return cpu > 0 && cpu < Limits.MinCpu
            ? $"Cpu {text} is below the minimum of 0.01 CPU; use 0.01 or more, or 0 for the default"
            : null;
    }

    /// <summary>Memory in MiB: 0 (server default), or at least <see cref="Limits.MinMemoryMb"/>.</summary>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckMemoryMb(long memoryMb)
    {
        var text = memoryMb.ToString(CultureInfo.InvariantCulture);
        if (memoryMb < 0)
        {
            return $"Memory {text} MiB is negative; use a number of MiB such as 512, or 0 for the default";
        }

        return memoryMb > 0 && memoryMb < Limits.MinMemoryMb
            ? $"Memory {text} MiB is below the 4 MiB minimum; use a number of MiB such as 512, or 0 for the default"
            : null;
    }

    /// <summary>A tunnel port: 1 to 65535.</summary>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckPort(long port) =>
        port >= Limits.MinPort && port <= Limits.MaxPort
            ? null
            : $"Port {port.ToString(CultureInfo.InvariantCulture)} is out of range; use 1 to 65535";

    /// <summary>A port listed a second time (in any of the encrypted, unencrypted and h2 lists).</summary>
    public static string DuplicatePort(long port) =>
        $"Port {port.ToString(CultureInfo.InvariantCulture)} is declared twice; list each port once (encrypted, unencrypted or h2)";

    /// <summary>A mount path used by a second volume.</summary>
    public static string DuplicateMountPath(string path) =>
        $"Mount path '{path}' is used by more than one volume; mount each path once";

    /// <summary>A tag key given a second time.</summary>
    public static string DuplicateTagKey(string key) =>
        $"Tag key '{key}' is declared more than once; keep one tag per key";

    /// <summary>Finds the first key that occurs twice, comparing ordinally.</summary>
    /// <returns>The index of the second occurrence, or -1.</returns>
    public static int IndexOfDuplicate(IReadOnlyList<string> keys)
    {
        var seen = new HashSet<string>(System.StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++)
        {
            if (!seen.Add(keys[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
