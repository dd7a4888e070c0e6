using System.Collections.Generic;

namespace TypedSandbox.Validation
{
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

        /// <summary>CPU cores: 0 (server default) or more.</summary>
        /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
        public static string? CheckCpu(double cpu) =>
            cpu >= 0 && !double.IsNaN(cpu) && !double.IsInfinity(cpu)
                ? null
                : $"Cpu {cpu.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not a number of cores; use a positive number such as 0.5 or 2, or 0 for the default";

        /// <summary>Memory in MiB: 0 (server default) or more.</summary>
        /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
        public static string? CheckMemoryMb(int memoryMb) =>
            memoryMb >= 0
                ? null
                : $"MemoryMb {memoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture)} is negative; use a positive number of MiB such as 512, or 0 for the default";

        /// <summary>A tunnel port: 1 to 65535.</summary>
        /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
        public static string? CheckPort(int port) =>
            port >= 1 && port <= 65535
                ? null
                : $"Port {port.ToString(System.Globalization.CultureInfo.InvariantCulture)} is out of range; use 1 to 65535";

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
}
