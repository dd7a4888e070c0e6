namespace TypedSandbox.Server.Exec;

/// <summary>
/// The environment of a process in a sandbox, built here only: the image's, then the sandbox's (its env and secrets),
/// then the terminal's (TERM and friends, for a process on a pseudo-terminal), then the process's own (its env and
/// secrets), each overriding the one before; PATH, HOSTNAME and HOME get defaults.
/// </summary>
internal static class ExecEnvironment
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The environment as <c>NAME=value</c> entries.</summary>
    public static IReadOnlyList<string> Build(
        IReadOnlyDictionary<string, string> image, IReadOnlyDictionary<string, string> sandbox, IReadOnlyDictionary<string, string> process, string hostname,
        TerminalSettings? terminal = null)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        IEnumerable<KeyValuePair<string, string>>[] layers = [image, sandbox, terminal?.Environment() ?? [], process];
        foreach (var source in layers)
        {
            foreach (var (key, value) in source)
            {
                env[key] = value;
            }
        }

        env.TryAdd("PATH", DefaultPath);
        env.TryAdd("HOSTNAME", hostname);
        env.TryAdd("HOME", "/root");
        return [.. env.Select(kv => $"{kv.Key}={kv.Value}")];
    }
}
