namespace TypedSandbox.Samples;

/// <summary>A file listing as the sandbox's <c>stat</c> prints it, read back as JSON.</summary>
/// <param name="Name">The file's name.</param>
/// <param name="Size">Its size in bytes.</param>
public sealed record FileEntry(string Name, long Size);

/// <summary>
/// Typed commands in a busybox sandbox: typed arguments (collections, options, stdin, environment) and one command per
/// result form. Nothing here goes through a shell except the scripts written out in full below; placeholders fill
/// arguments only.
/// </summary>
[Sandbox(App = "typed-commands", Timeout = "10m", Workdir = "/tmp")]
[SandboxImage("busybox:latest")]
public partial class Toolbox
{
    /// <summary>Creates the files: the collection fills a whole argument, so each file is one argument of its own.</summary>
    [Command("touch", "{files}")]
    public partial Task TouchAsync(IReadOnlyList<string> files);

    /// <summary>Lists files, newest first with <paramref name="newestFirst"/>; <c>-t</c> is appended only when true.</summary>
    [Command("ls", "-1")]
    public partial IAsyncEnumerable<string> ListAsync([Option("-t")] bool newestFirst = false, CancellationToken cancellationToken = default);

    /// <summary>Counts the words of <paramref name="text"/>, written to the command's stdin.</summary>
    [Command("wc", "-w")]
    public partial Task<string> CountWordsAsync([Stdin] string text);

    /// <summary>Greets through the environment: the value never becomes an argument.</summary>
    [Command("sh", "-c", "echo \"$GREETING, $WHO\"", Env = ["WHO=typed sandbox"])]
    public partial Task<string> GreetAsync([Env("GREETING")] string greeting);

    /// <summary>One JSON object per file: <c>IAsyncEnumerable&lt;T&gt;</c> reads JSON Lines as they arrive.</summary>
    [Command("sh", "-c", "for f in \"$@\"; do printf '{{\"name\":\"%s\",\"size\":%s}}\\n' \"$f\" \"$(stat -c %s \"$f\")\"; done", "stat-json", "{files}")]
    public partial IAsyncEnumerable<FileEntry> StatAsync(IReadOnlyList<string> files);

    /// <summary>The exit code alone.</summary>
    [Command("test", "-e", "{path}")]
    public partial Task<int> ExistsAsync(string path);

    /// <summary>A command that outlives its timeout: <c>Task&lt;ExecResult&gt;</c> reports 137 with the output so far.</summary>
    [Command("sh", "-c", "echo working; sleep 60", Timeout = "2s")]
    public partial Task<ExecResult> TooSlowAsync();
}
