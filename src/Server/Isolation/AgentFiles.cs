using System.Security.Cryptography;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// The directory bind-mounted read-only into every sandbox: the agent plus the host's loader, libc and libm (NativeAOT
/// needs nothing else), so the agent runs in images that have no libc at all.
/// </summary>
internal static class AgentFiles
{
    public const string AgentName = Agent.Protocol.AgentLayout.AgentName;
    public const string LoaderName = Agent.Protocol.AgentLayout.LoaderName;
    private static readonly string[] Libraries = ["libc.so.6", "libm.so.6"];
    private static readonly string[] LibraryDirectories = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"];

    /// <summary>The agent binary the engine uses: the configured one, else the one published next to the engine.</summary>
    public static string Locate(ContainerRuntimeOptions options) =>
        options.AgentPath ?? Path.Combine(AppContext.BaseDirectory, "agent", AgentName);

    /// <summary>Host files to copy beside the agent; a missing one is reported by <see cref="HostCheck"/>.</summary>
    public static IEnumerable<(string Name, string? HostPath)> HostLibraries()
    {
        yield return (LoaderName, FindLibrary(LoaderName));
        foreach (var library in Libraries)
        {
            yield return (library, FindLibrary(library));
        }
    }

    /// <summary>
    /// Copies the agent and its libraries into a directory named by their content hash (a running sandbox keeps its
    /// files; a new engine build gets a new directory) and returns it.
    /// </summary>
    public static string Prepare(ContainerRuntimeOptions options)
    {
        var files = new List<(string Name, string Source)> { (AgentName, Locate(options)) };
        foreach (var (name, path) in HostLibraries())
        {
            files.Add((name, path ?? throw new HostNotReadyException([$"The host library {name} was not found."])));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, source) in files)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            hash.AppendData(File.ReadAllBytes(source));
        }
        var directory = Path.Combine(options.RunDirectory, "agent-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..16]);
        if (Directory.Exists(directory))
        {
            return directory;
        }

        // Build beside the final name (unique per call: engines in one process start in parallel), then rename:
        // concurrent engines never see a half-copied directory.
        var staging = directory + ".tmp-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(staging);
        foreach (var (name, source) in files)
        {
            var target = Path.Combine(staging, name);
            File.Copy(source, target, overwrite: true);
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
                UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
        }
        try
        {
            Directory.Move(staging, directory);
        }
        catch (IOException) when (Directory.Exists(directory))
        {
            Directory.Delete(staging, recursive: true);
        }
        return directory;
    }

    private static string? FindLibrary(string name) =>
        LibraryDirectories.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
