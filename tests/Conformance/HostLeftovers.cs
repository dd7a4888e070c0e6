namespace TypedSandbox.Conformance.Tests;

/// <summary>What a container leaves on the host while it is not fully torn down: processes, mounts, cgroups.</summary>
internal static class HostLeftovers
{
    /// <summary>
    /// Waits (up to a minute, for teardown that runs after the result was published) until no process names any of
    /// <paramref name="containerIds"/>, no mount is under its bundle, and no cgroup of it exists; fails naming what stayed.
    /// </summary>
    public static async Task AssertGoneAsync(IReadOnlyList<string> containerIds)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var left = Find(containerIds);
            if (left.Count == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "left on the host: " + string.Join("; ", left));
            await Task.Delay(50);
        }
    }

    private static List<string> Find(IReadOnlyList<string> ids)
    {
        var left = new List<string>();
        foreach (var process in Directory.GetDirectories("/proc").Where(d => char.IsAsciiDigit(Path.GetFileName(d)[0])))
        {
            string commandLine;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(process, "cmdline")).Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue; // ended meanwhile
            }

            left.AddRange(ids.Where(id => commandLine.Contains(id, StringComparison.Ordinal)).Select(id => $"process {Path.GetFileName(process)}: {commandLine}"));
        }

        var mounts = File.ReadAllLines("/proc/self/mountinfo");
        left.AddRange(mounts.Where(m => ids.Any(id => m.Contains(id, StringComparison.Ordinal))).Select(m => "mount " + m));
        foreach (var root in Directory.GetDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup"))
        {
            left.AddRange(ids.Select(id => Path.Combine(root, "typedsandbox", id)).Where(Directory.Exists).Select(c => "cgroup " + c));
        }

        return left;
    }
}
