using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using TypedSandbox.Errors;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Telemetry;

namespace TypedSandbox;

/// <summary>What kind of filesystem error the sandbox reported.</summary>
public enum SandboxFilesystemErrorKind
{
    /// <summary>Any other failure.</summary>
    Other,

    /// <summary>The path does not exist.</summary>
    NotFound,

    /// <summary>A directory was expected.</summary>
    NotADirectory,

    /// <summary>A file was expected but the path is a directory.</summary>
    IsADirectory,

    /// <summary>The file is too large to read in one piece.</summary>
    FileTooLarge,

    /// <summary>The path already exists.</summary>
    AlreadyExists,

    /// <summary>The directory is not empty.</summary>
    DirectoryNotEmpty,

    /// <summary>The sandbox's user may not access the path.</summary>
    PermissionDenied,
}

/// <summary>A filesystem operation inside a sandbox failed.</summary>
public sealed class SandboxFilesystemException : SandboxException
{
    /// <summary>Creates an exception with no message.</summary>
    public SandboxFilesystemException() { }

    /// <inheritdoc cref="SandboxException(string)"/>
    public SandboxFilesystemException(string message) : base(message) { }

    /// <inheritdoc cref="SandboxException(string, Exception)"/>
    public SandboxFilesystemException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates an exception for a reported error.</summary>
    /// <param name="kind">The kind of error.</param>
    /// <param name="path">The path the operation was on.</param>
    /// <param name="message">What went wrong.</param>
    public SandboxFilesystemException(SandboxFilesystemErrorKind kind, string path, string message) : base(message)
    {
        Kind = kind;
        Path = path;
    }

    /// <summary>The kind of error.</summary>
    public SandboxFilesystemErrorKind Kind { get; }

    /// <summary>The path the operation was on.</summary>
    public string? Path { get; }
}

/// <summary>What kind of entry a path is.</summary>
public enum SandboxFileType
{
    /// <summary>Not reported or not one of the others.</summary>
    Unknown,

    /// <summary>A regular file.</summary>
    File,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A symbolic link.</summary>
    Symlink,
}

/// <summary>An entry of a sandbox's filesystem.</summary>
/// <param name="Name">The entry's name.</param>
/// <param name="Path">The entry's absolute path.</param>
/// <param name="Type">File, directory or symlink.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Permissions">The permission string or mode as reported, if any.</param>
/// <param name="ModifiedTime">When the entry last changed, if reported.</param>
/// <param name="SymlinkTarget">The link target of a symlink.</param>
public sealed record SandboxFileInfo(string Name, string Path, SandboxFileType Type, long Size, string? Permissions,
    DateTimeOffset? ModifiedTime, string? SymlinkTarget);

/// <summary>
/// Files inside a sandbox (<c>sandbox.Filesystem</c>). Each operation runs Modal's filesystem tool in the sandbox,
/// exactly as Modal's SDKs do, so it works against any server that speaks the protocol.
/// </summary>
public sealed class SandboxFilesystem
{
    private const string Tool = "/__modal/.bin/modal-sandbox-fs-tools";
    private const int WriteChunkBytes = 256 * 1024;

    private readonly Sandbox _sandbox;

    internal SandboxFilesystem(Sandbox sandbox) => _sandbox = sandbox;

    /// <summary>Reads a whole file.</summary>
    /// <param name="path">An absolute path in the sandbox.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="SandboxFilesystemException">The file does not exist, is a directory, or cannot be read.</exception>
    public async Task<byte[]> ReadFileAsync(string path, CancellationToken cancellationToken = default) =>
        await RunToolAsync(new JsonObject { ["ReadFile"] = new JsonObject { ["path"] = Absolute(path) } }, path, null, cancellationToken).ConfigureAwait(false);

    /// <summary>Reads a whole file as UTF-8 text.</summary>
    /// <param name="path">An absolute path in the sandbox.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<string> ReadTextAsync(string path, CancellationToken cancellationToken = default) =>
        Encoding.UTF8.GetString(await ReadFileAsync(path, cancellationToken).ConfigureAwait(false));

    /// <summary>Creates or replaces a file with <paramref name="contents"/>.</summary>
    /// <param name="path">An absolute path in the sandbox.</param>
    /// <param name="contents">The bytes to write.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task WriteFileAsync(string path, ReadOnlyMemory<byte> contents, CancellationToken cancellationToken = default) =>
        await RunToolAsync(new JsonObject { ["WriteFile"] = new JsonObject { ["path"] = Absolute(path) } }, path, contents, cancellationToken).ConfigureAwait(false);

    /// <summary>Creates or replaces a file with UTF-8 text.</summary>
    /// <param name="path">An absolute path in the sandbox.</param>
    /// <param name="text">The text to write.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public Task WriteTextAsync(string path, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WriteFileAsync(path, Encoding.UTF8.GetBytes(text), cancellationToken);
    }

    /// <summary>Lists a directory.</summary>
    /// <param name="path">An absolute directory path.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<IReadOnlyList<SandboxFileInfo>> ListFilesAsync(string path, CancellationToken cancellationToken = default)
    {
        var output = await RunToolAsync(new JsonObject { ["ListFiles"] = new JsonObject { ["path"] = Absolute(path) } }, path, null, cancellationToken).ConfigureAwait(false);
        var node = ParseToolOutput(output, path);
        var entries = node as JsonArray ?? (node?["entries"] ?? node?["files"]) as JsonArray ?? [];
        return [.. entries.OfType<JsonObject>().Select(ParseInfo)];
    }

    /// <summary>Describes one path.</summary>
    /// <param name="path">An absolute path.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<SandboxFileInfo> StatAsync(string path, CancellationToken cancellationToken = default)
    {
        var output = await RunToolAsync(new JsonObject { ["Stat"] = new JsonObject { ["path"] = Absolute(path) } }, path, null, cancellationToken).ConfigureAwait(false);
        return ParseToolOutput(output, path) is JsonObject info
            ? ParseInfo(info)
            : throw new SandboxFilesystemException($"Unexpected output describing '{path}'.");
    }

    /// <summary>Creates a directory.</summary>
    /// <param name="path">An absolute path.</param>
    /// <param name="parents">Also create missing parents (and accept an existing directory).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task MakeDirectoryAsync(string path, bool parents = false, CancellationToken cancellationToken = default) =>
        await RunToolAsync(new JsonObject { ["MakeDirectory"] = new JsonObject { ["path"] = Absolute(path), ["parents"] = parents } }, path, null, cancellationToken).ConfigureAwait(false);

    /// <summary>Removes a file or directory.</summary>
    /// <param name="path">An absolute path.</param>
    /// <param name="recursive">Remove a directory with its contents.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task RemoveAsync(string path, bool recursive = false, CancellationToken cancellationToken = default) =>
        await RunToolAsync(new JsonObject { ["Remove"] = new JsonObject { ["path"] = Absolute(path), ["recursive"] = recursive } }, path, null, cancellationToken).ConfigureAwait(false);

    private static string Absolute(string path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            throw new InvalidArgumentException($"Path '{path}' must be absolute (start with '/').");
        }
        return path;
    }

    private async Task<byte[]> RunToolAsync(JsonObject command, string path, ReadOnlyMemory<byte>? input, CancellationToken cancellationToken)
    {
        var operation = OperationName(command);
        using var activity = Instruments.Source.StartActivity(SandboxTelemetry.FileActivity, ActivityKind.Client);
        activity?.SetTag(SandboxTelemetry.SandboxIdTag, _sandbox.SandboxId);
        activity?.SetTag(SandboxTelemetry.FileOperationTag, operation);
        Instruments.FileOperations.Add(1, new KeyValuePair<string, object?>(SandboxTelemetry.FileOperationTag, operation));
        try
        {
            var output = await RunToolCoreAsync(command, path, input, cancellationToken).ConfigureAwait(false);
            activity?.SetTag(SandboxTelemetry.FileBytesTag, operation == "write" ? input?.Length ?? 0 : output.Length);
            return output;
        }
        catch (Exception e)
        {
            Instruments.Fail(activity, e);
            throw;
        }
    }

    /// <summary>The operation's name for telemetry: the tool command's one key, shortened.</summary>
    private static string OperationName(JsonObject command) => command.Select(p => p.Key).FirstOrDefault() switch
    {
        "ReadFile" => "read",
        "WriteFile" => "write",
        "ListFiles" => "list",
        "Stat" => "stat",
        "MakeDirectory" => "mkdir",
        "Remove" => "remove",
        var other => other ?? "unknown",
    };

    private async Task<byte[]> RunToolCoreAsync(JsonObject command, string path, ReadOnlyMemory<byte>? input, CancellationToken cancellationToken)
    {
        ContainerProcess process;
        try
        {
            process = await _sandbox.ExecAsync([Tool, command.ToJsonString()], null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable(e);
        }
        await using (process.ConfigureAwait(false))
        {
            try
            {
                var exit = process.WaitAsync(cancellationToken);
                if (input is { } data)
                {
                    await WriteInputAsync(process.ExecId, data, cancellationToken).ConfigureAwait(false);
                }
                var code = await exit.ConfigureAwait(false);
                if (code == 0)
                {
                    return await process.Stdout.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false);
                }
                var stderr = await process.Stderr.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                throw ToolError(stderr, code, path);
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                throw Unavailable(e);
            }
        }
    }

    /// <summary>Sends file contents the way Modal's SDK does: one client stream of start, chunks of at most 256 KiB, end.</summary>
    private async Task WriteInputAsync(string execId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var taskId = await _sandbox.Connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
        await _sandbox.Connection.Router.SendStreamAsync("TaskExecStdinWriteStream", static (c, o) => c.TaskExecStdinWriteStream(o),
            WriteStreamMessages(taskId, execId, data), cancellationToken).ConfigureAwait(false);
    }

    private static IEnumerable<TaskExecStdinWriteStreamRequest> WriteStreamMessages(string taskId, string execId, ReadOnlyMemory<byte> data)
    {
        yield return new TaskExecStdinWriteStreamRequest
        {
            Start = new TaskExecStdinWriteStreamStart { TaskId = taskId, ExecId = execId, Offset = 0 },
        };
        for (var offset = 0; offset < data.Length; offset += WriteChunkBytes)
        {
            var chunk = data.Slice(offset, Math.Min(WriteChunkBytes, data.Length - offset));
            yield return new TaskExecStdinWriteStreamRequest { Data = ByteString.CopyFrom(chunk.Span) };
        }
        yield return new TaskExecStdinWriteStreamRequest { End = new TaskExecStdinWriteStreamEnd() };
    }

    /// <summary>The tool's answer is JSON; anything else is a broken protocol, not a filesystem error.</summary>
    private static JsonNode? ParseToolOutput(byte[] output, string path)
    {
        try
        {
            return JsonNode.Parse(output);
        }
        catch (JsonException e)
        {
            throw new ProtocolException($"The filesystem tool's answer about '{path}' is not JSON.", e);
        }
    }

    private static bool IsUnavailable(Exception e) => e is SandboxException error && RpcErrorMapper.MeansSandboxGone(error);

    private static NotFoundException Unavailable(Exception e) =>
        new("The Sandbox is unavailable. This Sandbox may have already shut down.", e);

    /// <summary>Modal's tool reports failures as JSON on stderr: <c>{error_kind, message, detail}</c>.</summary>
    internal static Exception ToolError(string stderr, int exitCode, string path)
    {
        try
        {
            if (JsonNode.Parse(stderr) is JsonObject error && error["error_kind"]?.GetValue<string>() is { } kind)
            {
                var message = error["message"]?.GetValue<string>() ?? kind;
                var mapped = kind switch
                {
                    "NotFound" => SandboxFilesystemErrorKind.NotFound,
                    "NotDirectory" or "IsFile" => SandboxFilesystemErrorKind.NotADirectory,
                    "IsDirectory" => SandboxFilesystemErrorKind.IsADirectory,
                    "FileTooLarge" => SandboxFilesystemErrorKind.FileTooLarge,
                    "PathAlreadyExists" or "AlreadyExists" => SandboxFilesystemErrorKind.AlreadyExists,
                    "DirectoryNotEmpty" => SandboxFilesystemErrorKind.DirectoryNotEmpty,
                    "PermissionDenied" => SandboxFilesystemErrorKind.PermissionDenied,
                    _ => SandboxFilesystemErrorKind.Other,
                };
                return mapped == SandboxFilesystemErrorKind.Other
                    ? new SandboxFilesystemException(mapped, path, message)
                    : new SandboxFilesystemException(mapped, path, $"{message}: {path}");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // Not the tool's JSON: fall through to the generic message.
        }
        return new SandboxFilesystemException(SandboxFilesystemErrorKind.Other, path, $"Operation on '{path}' failed with exit code {exitCode}");
    }

    private static SandboxFileInfo ParseInfo(JsonObject info)
    {
        string? Text(string key) => info[key] is JsonValue value ? value.ToString() : null;
        var type = Text("type")?.ToUpperInvariant() switch
        {
            "FILE" => SandboxFileType.File,
            "DIRECTORY" or "DIR" => SandboxFileType.Directory,
            "SYMLINK" => SandboxFileType.Symlink,
            _ => SandboxFileType.Unknown,
        };
        DateTimeOffset? modified = null;
        if (info["modified_time"] is JsonValue time)
        {
            if (time.TryGetValue<double>(out var seconds))
            {
                modified = DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
            }
            else if (time.TryGetValue<string>(out var text) && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
            {
                modified = parsed;
            }
        }
        var size = info["size"] is JsonValue sizeValue && sizeValue.TryGetValue<long>(out var bytes) ? bytes : 0;
        var path = Text("path") ?? "";
        return new SandboxFileInfo(Text("name") ?? System.IO.Path.GetFileName(path), path, type, size,
            Text("permissions") ?? Text("mode"), modified, Text("symlink_target"));
    }
}
