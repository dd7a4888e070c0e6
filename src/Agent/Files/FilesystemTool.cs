using System.Text;
using System.Text.Json;

namespace TypedSandbox.Agent.Files;

/// <summary>
/// The agent's second mode: <c>typedsandbox-agent fs-tools '&lt;json&gt;'</c>, which the engine runs for Modal's
/// <c>/__modal/.bin/modal-sandbox-fs-tools</c>. It runs as an ordinary process inside the sandbox, so every path is
/// resolved in the sandbox's own mount namespace: "/" is the sandbox's root, and neither <c>..</c> nor a symlink
/// can name a host file. Output goes to stdout; a failure is one JSON line
/// <c>{"error_kind", "message", "detail"}</c> on stderr and exit code 1.
/// </summary>
internal static class FilesystemTool
{
    public const string Mode = "fs-tools";

    public static int Run(string[] args)
    {
        using var stdout = Console.OpenStandardOutput();
        try
        {
            if (args.Length != 1) throw Invalid("usage: fs-tools '<json command>'");
            using var document = ParseCommand(args[0]);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid("the command must be a JSON object");
            using var members = root.EnumerateObject();
            if (!members.MoveNext()) throw Invalid("the command object is empty");
            var command = members.Current;
            var arguments = command.Value;
            var path = RequirePath(arguments);
            switch (command.Name)
            {
                case "ReadFile":
                    FileCommands.ReadFile(path, stdout);
                    break;
                case "WriteFile":
                    using (var stdin = Console.OpenStandardInput()) FileCommands.WriteFile(path, stdin);
                    break;
                case "ListFiles":
                    FileCommands.ListFiles(path, stdout);
                    break;
                case "Stat":
                    FileCommands.Stat(path, stdout);
                    break;
                case "MakeDirectory":
                    FileCommands.MakeDirectory(path, Bool(arguments, "parents"));
                    break;
                case "Remove":
                    FileCommands.Remove(path, Bool(arguments, "recursive"));
                    break;
                case "Watch":
                    return FileWatch.Run(path, Bool(arguments, "recursive"), Filter(arguments), TimeoutSeconds(arguments), stdout);
                default:
                    throw Invalid($"unknown command '{command.Name}'");
            }
            stdout.Flush();
            return 0;
        }
        catch (FilesystemError error)
        {
            ReportError(error);
            return 1;
        }
        catch (IOException error)
        {
            // Only stdin/stdout can throw this (their pipes broke); file calls report errno themselves.
            ReportError(new FilesystemError("Other", "I/O error", error.Message));
            return 1;
        }
    }

    private static JsonDocument ParseCommand(string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException error)
        {
            throw Invalid("the command is not valid JSON: " + error.Message);
        }
    }

    private static string RequirePath(JsonElement arguments)
    {
        if (arguments.ValueKind != JsonValueKind.Object || !arguments.TryGetProperty("path", out var value) || value.ValueKind != JsonValueKind.String)
            throw Invalid("the command needs a string 'path'");
        var path = value.GetString()!;
        if (!path.StartsWith('/')) throw new FilesystemError("InvalidPath", "Path must be absolute", $"'{path}' is not an absolute path");
        if (path.Contains('\0', StringComparison.Ordinal)) throw new FilesystemError("InvalidPath", "Path contains a NUL byte", path);
        return path;
    }

    private static bool Bool(JsonElement arguments, string name) =>
        arguments.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    private static HashSet<string>? Filter(JsonElement arguments)
    {
        if (!arguments.TryGetProperty("filter", out var value) || value.ValueKind != JsonValueKind.Array) return null;
        var filter = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in value.EnumerateArray())
            if (item.ValueKind == JsonValueKind.String) filter.Add(item.GetString()!);
        return filter;
    }

    private static int? TimeoutSeconds(JsonElement arguments) =>
        arguments.TryGetProperty("timeout_secs", out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var seconds)
            ? Math.Max(seconds, 0)
            : null;

    private static FilesystemError Invalid(string message) => new("InvalidCommand", message, message);

    private static void ReportError(FilesystemError error)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("error_kind", error.Kind);
            json.WriteString("message", error.Message);
            json.WriteString("detail", error.Detail);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        try
        {
            using var stderr = Console.OpenStandardError();
            stderr.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (IOException)
        {
            // Nobody reads stderr any more; the exit code still tells.
        }
    }

    /// <summary>The last path component ("/" for the root) for FileInfo.name.</summary>
    public static string NameOf(string path)
    {
        var trimmed = path.TrimEnd('/');
        return trimmed.Length == 0 ? "/" : trimmed[(trimmed.LastIndexOf('/') + 1)..];
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
