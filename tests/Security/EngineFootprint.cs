using System.Runtime.InteropServices;

namespace TypedSandbox.Security.Tests;

/// <summary>What an engine holds on the host: its descriptors, threads and spill files, and what its sandboxes left
/// (bundles, mounts, cgroups, network namespaces).</summary>
internal static class EngineFootprint
{
    private const string CgroupParent = "typedsandbox";

    /// <summary>Link targets of the open descriptors of process <paramref name="pid"/> (the test process by default).</summary>
    public static IReadOnlyList<string> Descriptors(string pid = "self")
    {
        var targets = new List<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                targets.Add(new FileInfo(fd).LinkTarget ?? "?");
            }
            catch (IOException)
            {
                // Closed while listed.
            }
        }

        return targets;
    }

    /// <summary>Threads of process <paramref name="pid"/>.</summary>
    public static int Threads(string pid = "self") => Directory.GetDirectories($"/proc/{pid}/task").Length;

    /// <summary>Disk bytes of the output spill files process <paramref name="pid"/> holds open (they are unlinked at once, so
    /// a directory listing never shows them).</summary>
    public static long SpillBytes(string pid = "self")
    {
        var total = 0L;
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is not { } target || !target.Contains("/spill/journal-", StringComparison.Ordinal))
                {
                    continue;
                }

                // stat follows the descriptor's link to the (unlinked) file: its blocks are what it takes on disk.
                var status = new byte[144];
                if (stat(fd, status) == 0)
                {
                    total += BitConverter.ToInt64(status, 64) * 512;
                }
            }
            catch (IOException)
            {
                // Closed while measured.
            }
        }

        return total;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);

    /// <summary>Bytes of all files under <paramref name="directory"/> (a state directory's visible disk use).</summary>
    /// <remarks>
    /// Symbolic links are skipped, not followed: an image layer's <c>/dev/fd -> /proc/self/fd</c> would otherwise lead
    /// the walk into this process's own descriptors. A file removed while the walk runs counts as 0.
    /// </remarks>
    public static long DiskBytes(string directory) =>
        Directory.Exists(directory)
            ? new DirectoryInfo(directory)
                .EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true })
                .Sum(LengthOrZero)
            : 0;

    private static long LengthOrZero(FileInfo file)
    {
        try
        {
            return file.Length;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>The sandbox bundles under an engine's state directory (one per sandbox it runs or left behind).</summary>
    public static IReadOnlyList<string> Bundles(string stateDirectory)
    {
        var bundles = Path.Combine(stateDirectory, "sandboxes", "bundles");
        return Directory.Exists(bundles) ? [.. Directory.GetDirectories(bundles).Select(Path.GetFileName).OfType<string>()] : [];
    }

    /// <summary>Mount points at or under <paramref name="directory"/>.</summary>
    public static IReadOnlyList<string> MountsUnder(string directory) =>
        [.. File.ReadLines("/proc/mounts").Select(l => l.Split(' ')[1]).Where(m => m.StartsWith(directory, StringComparison.Ordinal))];

    /// <summary>
    /// Mounts under a state directory other than the engine's own limited storage (<c>writable/</c>, mounted while an
    /// engine runs): what sandboxes could leave behind.
    /// </summary>
    public static IReadOnlyList<string> SandboxMountsUnder(string stateDirectory) =>
        [.. MountsUnder(stateDirectory.TrimEnd('/') + "/").Where(m => m != Path.Combine(stateDirectory, "writable"))];

    /// <summary>cgroup directories of sandbox <paramref name="id"/> in every hierarchy.</summary>
    public static IReadOnlyList<string> Cgroups(string id) =>
        [.. Directory.GetDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup").Select(c => $"{c}/{CgroupParent}/{id}").Where(Directory.Exists)];

    /// <summary>True when sandbox <paramref name="id"/>'s network namespace still exists.</summary>
    public static bool HasNetworkNamespace(string id) => File.Exists($"/run/netns/tsb-{id}");

    /// <summary>Everything sandbox <paramref name="id"/> could leave behind, as readable lines (empty = nothing).</summary>
    public static IReadOnlyList<string> LeftoversOf(string stateDirectory, string id)
    {
        var left = new List<string>();
        if (Bundles(stateDirectory).Contains(id))
        {
            left.Add("bundle " + id);
        }

        left.AddRange(MountsUnder(Path.Combine(stateDirectory, "sandboxes", "bundles", id)).Select(m => "mount " + m));
        if (Directory.Exists(Path.Combine(stateDirectory, "writable", "sandboxes", id)))
        {
            left.Add("writable layer " + id);
        }

        left.AddRange(Cgroups(id).Select(c => "cgroup " + c));
        // What the runtimes keep per container under the engine's run directory (runsc launched in a sandbox's user
        // namespace has a root of its own there).
        foreach (var root in new[] { "crun", "runsc", Server.Isolation.UserNamespaceLaunch.RuntimeRootName })
        {
            var directory = Path.Combine("/run/typedsandbox", root);
            if (Directory.Exists(directory))
            {
                left.AddRange(Directory.EnumerateFileSystemEntries(directory, id + "*").Select(e => "runtime state " + e));
            }
        }

        if (HasNetworkNamespace(id))
        {
            left.Add("netns tsb-" + id);
        }

        return left;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="patience"/> ends; returns its last value.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(200);
        }

        return true;
    }

    /// <summary>Descriptor targets grouped by kind ("pipe", "socket", a path), most frequent first: what leaked.</summary>
    public static string Summarize(IEnumerable<string> targets) =>
        string.Join(", ", targets
            .Select(t => t.StartsWith("pipe:", StringComparison.Ordinal) ? "pipe" : t.StartsWith("socket:", StringComparison.Ordinal) ? "socket" : t.StartsWith("anon_inode:", StringComparison.Ordinal) ? t : t)
            .GroupBy(t => t)
            .OrderByDescending(g => g.Count())
            .Take(12)
            .Select(g => $"{g.Key} x{g.Count()}"));

    /// <summary>Host processes whose command line names <paramref name="text"/> (a sandbox's runtime or helper left running).</summary>
    public static List<string> ProcessesNaming(string text)
    {
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(text, StringComparison.Ordinal))
                {
                    found.Add($"{Path.GetFileName(dir)}: {commandLine}");
                }
            }
            catch (IOException)
            {
                // Gone while listed.
            }
        }

        return found;
    }
}
