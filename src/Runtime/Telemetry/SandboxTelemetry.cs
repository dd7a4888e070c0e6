using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TypedSandbox;

/// <summary>
/// The names of the client's traces and metrics: one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>. Subscribe with OpenTelemetry (<c>AddSource("TypedSandbox")</c>, <c>AddMeter("TypedSandbox")</c>)
/// or with an <see cref="ActivityListener"/>/<see cref="MeterListener"/>. No tag ever carries command arguments,
/// environment values, secret values, file contents or paths: only ids, program names, exit codes and sizes.
/// </summary>
public static class SandboxTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "TypedSandbox";

    /// <summary>Span: creating a sandbox (image build included, as a child span).</summary>
    public const string CreateActivity = "sandbox.create";

    /// <summary>Span: one process in a sandbox, from its start until the client sees its exit (or drops the handle).</summary>
    public const string ExecActivity = "sandbox.exec";

    /// <summary>Span: building (or finding in the cache) an image.</summary>
    public const string ImageBuildActivity = "image.build";

    /// <summary>Span: one file operation (<see cref="FileOperationTag"/> says which).</summary>
    public const string FileActivity = "sandbox.file";

    /// <summary>Counter (<c>{sandbox}</c>): sandboxes created, tagged with <see cref="ErrorTypeTag"/> when a create failed.</summary>
    public const string CreatesCounter = "typedsandbox.sandbox.creates";

    /// <summary>Histogram (<c>s</c>): how long creating a sandbox took, image build included.</summary>
    public const string CreateDurationHistogram = "typedsandbox.sandbox.create.duration";

    /// <summary>Histogram (<c>s</c>): how long a process ran, from its start until the client saw its exit; tagged
    /// with <see cref="ExecutableTag"/> and <see cref="ExitCodeTag"/>.</summary>
    public const string ExecDurationHistogram = "typedsandbox.exec.duration";

    /// <summary>Counter (<c>{process}</c>): processes whose exit the client saw, tagged with <see cref="ExecutableTag"/>
    /// and <see cref="ExitCodeTag"/> (or <see cref="ErrorTypeTag"/> after a timeout).</summary>
    public const string ExecExitsCounter = "typedsandbox.exec.exits";

    /// <summary>Counter (<c>By</c>): bytes streamed between the client and processes, tagged with <see cref="StreamTag"/>.</summary>
    public const string StreamedBytesCounter = "typedsandbox.stream.bytes";

    /// <summary>Counter (<c>{build}</c>): image builds asked for, tagged with <see cref="ImageCachedTag"/>.</summary>
    public const string ImageBuildsCounter = "typedsandbox.image.builds";

    /// <summary>Counter (<c>{operation}</c>): file operations, tagged with <see cref="FileOperationTag"/>.</summary>
    public const string FileOperationsCounter = "typedsandbox.file.operations";

    /// <summary>Tag: the app id (<c>ap-…</c>).</summary>
    public const string AppIdTag = "typedsandbox.app.id";

    /// <summary>Tag: the sandbox id (<c>sb-…</c>).</summary>
    public const string SandboxIdTag = "typedsandbox.sandbox.id";

    /// <summary>Tag: the image id (<c>im-…</c>).</summary>
    public const string ImageIdTag = "typedsandbox.image.id";

    /// <summary>Tag: whether the image was already built (a cache hit).</summary>
    public const string ImageCachedTag = "typedsandbox.image.cached";

    /// <summary>Tag: the exec id.</summary>
    public const string ExecIdTag = "typedsandbox.exec.id";

    /// <summary>Tag: the program's file name (the last segment of the command's first element; never its arguments).</summary>
    public const string ExecutableTag = "process.executable.name";

    /// <summary>Tag: the process's exit code (128 + n when killed by signal n).</summary>
    public const string ExitCodeTag = "process.exit.code";

    /// <summary>Tag: which stream bytes went through: <c>stdout</c>, <c>stderr</c> or <c>stdin</c>.</summary>
    public const string StreamTag = "typedsandbox.stream";

    /// <summary>Tag: the file operation: <c>read</c>, <c>write</c>, <c>list</c>, <c>stat</c>, <c>mkdir</c> or <c>remove</c>.</summary>
    public const string FileOperationTag = "typedsandbox.file.operation";

    /// <summary>Tag: bytes read or written by a file operation.</summary>
    public const string FileBytesTag = "typedsandbox.file.bytes";

    /// <summary>Tag: the client exception's type name when an operation failed (never its message).</summary>
    public const string ErrorTypeTag = "error.type";
}
