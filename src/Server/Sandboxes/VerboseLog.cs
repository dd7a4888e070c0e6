using System.Text;
using System.Text.Json;
using TypedSandbox.Agent.Protocol;
using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// The lines <c>verbose: true</c> adds to a sandbox's system log: "exec started: &lt;argv&gt;" and "exec finished:
/// exit code N", and for Modal's filesystem tool (which the SDKs run as an exec) the operation instead, e.g.
/// "filesystem ReadFile: /tmp/a.txt".
/// </summary>
internal static class VerboseLog
{
    /// <summary>Records the start of <paramref name="process"/> and, when it ends, its outcome.</summary>
    public static void Record(SandboxSession session, string execId, ProcessSpec spec, SupervisedProcess process, TimeProvider clock)
    {
        var operation = FilesystemOperation(spec.Args);
        session.Log.Add(clock.GetUtcNow(), operation is null
            ? $"exec started: {Quote(spec.Args)} (exec {execId})"
            : $"filesystem {operation}");
        // Logged before Completion completes: a client that saw the exec end finds the line already there.
        process.OnEnded(exit =>
        {
            var outcome = exit.Signal is { } signal && exit.ExitCode is null ? $"killed by signal {signal}" : $"exit code {exit.ExitCode ?? 0}";
            session.Log.Add(clock.GetUtcNow(), operation is null
                ? $"exec finished: {outcome} (exec {execId})"
                : $"filesystem {operation} finished: {(exit.ExitCode == 0 ? "ok" : "failed, " + outcome)}");
        });
    }

    /// <summary>"ReadFile: /path" for the filesystem tool's JSON command; null for any other exec.</summary>
    private static string? FilesystemOperation(IReadOnlyList<string> args)
    {
        if (args.Count != 2 || args[0] != AgentLayout.FsToolsPath)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(args[1]);
            foreach (var command in document.RootElement.EnumerateObject())
            {
                var path = command.Value.ValueKind == JsonValueKind.Object && command.Value.TryGetProperty("path", out var p) ? p.ToString() : "?";
                return $"{command.Name}: {path}";
            }
            return "(empty command)";
        }
        catch (JsonException)
        {
            return "(unreadable command)";
        }
        catch (InvalidOperationException)
        {
            return "(unreadable command)";
        }
    }

    /// <summary>argv as a shell would need it typed: words with spaces or quotes in single quotes.</summary>
    private static string Quote(IReadOnlyList<string> args)
    {
        var text = new StringBuilder();
        foreach (var arg in args)
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            var plain = arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c, StringComparison.Ordinal));
            text.Append(plain ? arg : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'");
        }
        return text.ToString();
    }
}
