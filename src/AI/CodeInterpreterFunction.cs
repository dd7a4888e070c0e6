using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace TypedSandbox.AI;

/// <summary>
/// The <c>run_code</c> tool (see <see cref="SandboxTools.CreateCodeInterpreter"/>). Disposing it terminates the
/// per-conversation sandbox, if one was started.
/// </summary>
public sealed class CodeInterpreterFunction : AIFunction, IAsyncDisposable
{
    /// <summary>The function's name, as the model sees it.</summary>
    public const string FunctionName = "run_code";

    private const string CodeDirectory = "/tmp/run_code";

    private static readonly JsonElement Schema = JsonDocument.Parse("""
        {
          "type": "object",
          "properties": {
            "language": { "type": "string", "enum": ["python", "sh"], "description": "python runs the code with python3; sh runs it with /bin/sh." },
            "code": { "type": "string", "description": "The program to run, as source text." }
          },
          "required": ["language", "code"],
          "additionalProperties": false
        }
        """).RootElement.Clone();

    /// <summary>Lists regular files under the directory given as $1: md5, size and path relative to it, one per line.</summary>
    private const string ManifestScript =
        """cd "$1" 2>/dev/null || exit 0; find . -type f | head -n 2000 | while IFS= read -r f; do printf '%s %s %s\n' "$(md5sum < "$f" | cut -c1-32)" "$(wc -c < "$f" | tr -d ' ')" "${f#./}"; done""";

    private readonly SandboxClient _client;
    private readonly CodeInterpreterOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Sandbox? _conversationSandbox;
    private int _runs;
    private bool _disposed;

    internal CodeInterpreterFunction(SandboxClient client, CodeInterpreterOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxOutputBytes, 64, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxFilesListed, nameof(options));
        if (!options.WorkingDirectory.StartsWith('/'))
        {
            throw new ArgumentException($"WorkingDirectory '{options.WorkingDirectory}' must be absolute.", nameof(options));
        }
        _client = client;
        _options = options;
    }

    /// <inheritdoc/>
    public override string Name => FunctionName;

    /// <inheritdoc/>
    public override string Description =>
        "Runs code in an isolated sandbox " + (_options.BlockNetwork ? "without network access " : "") +
        $"and returns its exit code, stdout, stderr and the files it wrote in {_options.WorkingDirectory} (its working directory). " +
        $"A run is stopped after {_options.Timeout.TotalSeconds:0} seconds; long output is shortened. " +
        (_options.Lifetime == CodeInterpreterSandboxLifetime.PerConversation
            ? "Files and state carry over from one call to the next."
            : "Every call starts from a fresh sandbox.");

    /// <inheritdoc/>
    public override JsonElement JsonSchema => Schema;

    /// <summary>Runs <paramref name="code"/> as the tool does, returning the typed result.</summary>
    /// <param name="language"><c>python</c> or <c>sh</c>.</param>
    /// <param name="code">The program's source.</param>
    /// <param name="cancellationToken">Cancels the run (the sandbox of a per-call run is terminated).</param>
    /// <exception cref="SandboxException">The sandbox could not be created or reached.</exception>
    public async Task<CodeRunResult> RunAsync(string language, string code, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var program = language switch
        {
            "python" => "python3",
            "sh" => "sh",
            _ => null,
        };
        if (program is null)
        {
            return CodeRunResult.Invalid($"Unknown language '{language}'; use \"python\" or \"sh\".");
        }
        ArgumentNullException.ThrowIfNull(code);

        if (_options.Lifetime == CodeInterpreterSandboxLifetime.PerCall)
        {
            await using var sandbox = await CreateSandboxAsync(cancellationToken).ConfigureAwait(false);
            return await RunInAsync(sandbox, program, language, code, cancellationToken).ConfigureAwait(false);
        }

        // One run at a time in a conversation's sandbox: the manifest diff is only meaningful then.
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _conversationSandbox ??= await CreateSandboxAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await RunInAsync(_conversationSandbox, program, language, code, cancellationToken).ConfigureAwait(false);
            }
            catch (SandboxException)
            {
                if (!await HasEndedAsync(_conversationSandbox).ConfigureAwait(false))
                {
                    throw;
                }
                // Its timeout passed, or someone terminated it: say so, and start a new one at the next call.
                var ended = _conversationSandbox;
                _conversationSandbox = null;
                await ended.DisposeAsync().ConfigureAwait(false);
                return CodeRunResult.Invalid("The sandbox of this conversation has ended and its files are gone; the next call starts a new one.");
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var result = Text(arguments, "language") is not { } language ? CodeRunResult.Invalid("Missing argument 'language' (\"python\" or \"sh\").")
            : Text(arguments, "code") is not { } code ? CodeRunResult.Invalid("Missing argument 'code'.")
            : await RunAsync(language, code, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.SerializeToElement(result, CodeInterpreterJson.Default.CodeRunResult);
    }

    /// <summary>Terminates the per-conversation sandbox, if one was started.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_conversationSandbox is { } sandbox)
            {
                _conversationSandbox = null;
                await sandbox.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
        _gate.Dispose();
    }

    private static async Task<bool> HasEndedAsync(Sandbox sandbox)
    {
        try
        {
            return await sandbox.PollAsync(CancellationToken.None).ConfigureAwait(false) is not null;
        }
        catch (NotFoundException)
        {
            return true;
        }
    }

    private static string? Text(AIFunctionArguments arguments, string name) =>
        arguments.TryGetValue(name, out var value) ? value switch
        {
            string text => text,
            JsonElement { ValueKind: JsonValueKind.String } element => element.GetString(),
            JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
            JsonElement element => element.GetRawText(),
            null => null,
            var other => Convert.ToString(other, CultureInfo.InvariantCulture),
        } : null;

    private async Task<Sandbox> CreateSandboxAsync(CancellationToken cancellationToken)
    {
        var app = await _client.Apps.FromNameAsync(_options.AppName, createIfMissing: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        var sandbox = await _client.Sandboxes.CreateAsync(app, _client.Images.FromRegistry(_options.Image), new SandboxCreateOptions
        {
            Workdir = _options.WorkingDirectory,
            BlockNetwork = _options.BlockNetwork,
            Timeout = _options.SandboxTimeout,
            MemoryLimitMiB = _options.MemoryLimitMiB,
            Tags = _options.Tags,
        }, cancellationToken).ConfigureAwait(false);
        try
        {
            await sandbox.Filesystem.MakeDirectoryAsync(CodeDirectory, parents: true, cancellationToken).ConfigureAwait(false);
            foreach (var (path, contents) in _options.Files ?? new Dictionary<string, ReadOnlyMemory<byte>>())
            {
                var target = InWorkingDirectory(path);
                var parent = target[..target.LastIndexOf('/')];
                if (parent.Length > 0)
                {
                    await sandbox.Filesystem.MakeDirectoryAsync(parent, parents: true, cancellationToken).ConfigureAwait(false);
                }
                await sandbox.Filesystem.WriteFileAsync(target, contents, cancellationToken).ConfigureAwait(false);
            }
            return sandbox;
        }
        catch
        {
            await sandbox.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private string InWorkingDirectory(string path) =>
        path.StartsWith('/') ? path : _options.WorkingDirectory.TrimEnd('/') + "/" + path;

    private async Task<CodeRunResult> RunInAsync(Sandbox sandbox, string program, string language, string code, CancellationToken cancellationToken)
    {
        var before = await ManifestAsync(sandbox, cancellationToken).ConfigureAwait(false);
        var run = Interlocked.Increment(ref _runs);
        var file = $"{CodeDirectory}/cell-{run.ToString(CultureInfo.InvariantCulture)}.{(language == "python" ? "py" : "sh")}";
        await sandbox.Filesystem.WriteTextAsync(file, code, cancellationToken).ConfigureAwait(false);

        var timedOut = false;
        int? exitCode = null;
        string stdout, stderr;
        await using (var process = await sandbox.ExecAsync([program, file], new ExecOptions
        {
            Workdir = _options.WorkingDirectory,
            Timeout = _options.Timeout,
        }, cancellationToken).ConfigureAwait(false))
        {
            var stdoutTask = OutputCapture.ReadAsync(process.Stdout, _options.MaxOutputBytes, cancellationToken);
            var stderrTask = OutputCapture.ReadAsync(process.Stderr, _options.MaxOutputBytes, cancellationToken);
            try
            {
                await Task.WhenAll(stdoutTask, stderrTask).ConfigureAwait(false);
                exitCode = await process.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ExecTimeoutException)
            {
                timedOut = true;
                exitCode = 137;
            }
            stdout = stdoutTask.IsCompletedSuccessfully ? await stdoutTask.ConfigureAwait(false) : "";
            stderr = stderrTask.IsCompletedSuccessfully ? await stderrTask.ConfigureAwait(false) : "";
        }

        var after = await ManifestAsync(sandbox, cancellationToken).ConfigureAwait(false);
        var written = after
            .Where(entry => !before.TryGetValue(entry.Key, out var old) || old != entry.Value)
            .OrderBy(entry => entry.Key, StringComparer.Ordinal)
            .Select(entry => new WrittenFile(entry.Key, entry.Value.Size))
            .ToList();
        var listed = written.Take(_options.MaxFilesListed).ToList();
        return new CodeRunResult(exitCode, stdout, stderr, timedOut, listed, written.Count - listed.Count, null);
    }

    /// <summary>Every regular file under the working directory with its checksum and size.</summary>
    private async Task<Dictionary<string, (string Checksum, long Size)>> ManifestAsync(Sandbox sandbox, CancellationToken cancellationToken)
    {
        var result = await sandbox.RunAsync(["sh", "-c", ManifestScript, "sh", _options.WorkingDirectory],
            new ExecOptions { Timeout = TimeSpan.FromSeconds(60) }, cancellationToken).ConfigureAwait(false);
        var files = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
        foreach (var line in result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', 3);
            if (parts.Length == 3 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                files[parts[2]] = (parts[0], size);
            }
        }
        return files;
    }
}
