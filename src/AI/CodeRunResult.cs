using System.Text.Json.Serialization;

namespace TypedSandbox.AI;

/// <summary>What a run of <c>run_code</c> returns to the model (serialized as JSON with snake_case names).</summary>
/// <param name="ExitCode">The process's exit code (137 when it was killed at its timeout); null when the code did not run.</param>
/// <param name="Stdout">Its standard output, shortened to the configured size.</param>
/// <param name="Stderr">Its standard error, shortened to the configured size.</param>
/// <param name="TimedOut">Whether the run was killed at its timeout.</param>
/// <param name="FilesWritten">Files in the working directory that the run created or changed, with their sizes.</param>
/// <param name="FilesOmitted">How many more written files there were than are listed.</param>
/// <param name="Error">Why the code did not run (a bad argument), for the model to correct; null when it ran.</param>
public sealed record CodeRunResult(
    [property: JsonPropertyName("exit_code")] int? ExitCode,
    [property: JsonPropertyName("stdout")] string Stdout,
    [property: JsonPropertyName("stderr")] string Stderr,
    [property: JsonPropertyName("timed_out")] bool TimedOut,
    [property: JsonPropertyName("files_written")] IReadOnlyList<WrittenFile> FilesWritten,
    [property: JsonPropertyName("files_omitted")] int FilesOmitted,
    [property: JsonPropertyName("error")] string? Error)
{
    internal static CodeRunResult Invalid(string error) => new(null, "", "", false, [], 0, error);
}

/// <summary>A file a run created or changed.</summary>
/// <param name="Path">Its path relative to the working directory.</param>
/// <param name="Size">Its size in bytes.</param>
public sealed record WrittenFile(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("size")] long Size);

/// <summary>Source-generated JSON for results (no reflection at run time).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CodeRunResult))]
internal sealed partial class CodeInterpreterJson : JsonSerializerContext;
