using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Programs Modal's SDKs expect inside every sandbox without the image having them. Every <c>sb.filesystem</c> call
/// execs <see cref="FilesystemToolPath"/> with one JSON argument; the engine runs the agent's <c>fs-tools</c> mode
/// instead (through the host loader, like the agent itself, so it works in images without a libc). Rewriting argv
/// here, rather than mounting a file at <c>/__modal</c>, leaves the image's filesystem (and its snapshots) untouched.
/// The tool is an ordinary process of the sandbox: its paths resolve in the sandbox's own mount namespace.
/// </summary>
internal static class SandboxTools
{
    /// <summary>The path Modal's SDKs exec for filesystem operations.</summary>
    public const string FilesystemToolPath = "/__modal/.bin/modal-sandbox-fs-tools";

    /// <summary>The argv to spawn for <paramref name="spec"/>: the agent's fs-tools mode for the filesystem tool,
    /// the spec unchanged otherwise.</summary>
    public static ProcessSpec Resolve(ProcessSpec spec)
    {
        if (spec.Args.Count == 0 || spec.Args[0] != FilesystemToolPath) return spec;
        var mount = OciConfig.AgentMountPoint;
        string[] launcher = [$"{mount}/{AgentFiles.LoaderName}", "--library-path", mount, $"{mount}/{AgentFiles.AgentName}", "fs-tools"];
        // Paths are absolute, so the directory does not matter; "/" always exists (the sandbox's may have been removed).
        return spec with { Args = [.. launcher, .. spec.Args.Skip(1)], Workdir = "/" };
    }

    /// <summary>True when <paramref name="args"/> runs the filesystem tool.</summary>
    public static bool IsFilesystemTool(IReadOnlyList<string> args) => args.Count > 0 && args[0] == FilesystemToolPath;
}
