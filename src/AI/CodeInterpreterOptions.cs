namespace TypedSandbox.AI;

/// <summary>Which sandbox a code interpreter runs code in.</summary>
public enum CodeInterpreterSandboxLifetime
{
    /// <summary>A fresh sandbox for every call, terminated when the call ends: nothing carries over between calls.</summary>
    PerCall,

    /// <summary>
    /// One sandbox for all calls of the function instance, created at the first call and terminated when the
    /// <see cref="CodeInterpreterFunction"/> is disposed: create one function per conversation, and files and installed
    /// state carry over from call to call.
    /// </summary>
    PerConversation,
}

/// <summary>How <see cref="SandboxTools.CreateCodeInterpreter"/> runs model-written code. The defaults are the safe ones.</summary>
public sealed record CodeInterpreterOptions
{
    /// <summary>The app sandboxes are created in (created if missing); <c>code-interpreter</c> by default.</summary>
    public string AppName { get; init; } = "code-interpreter";

    /// <summary>The image sandboxes run; it must have <c>sh</c>, and <c>python3</c> for Python. <c>python:3.13-slim</c> by default.</summary>
    public string Image { get; init; } = "python:3.13-slim";

    /// <summary>A sandbox per call (the default) or one per conversation.</summary>
    public CodeInterpreterSandboxLifetime Lifetime { get; init; } = CodeInterpreterSandboxLifetime.PerCall;

    /// <summary>Whether the sandbox has no network at all; <see langword="true"/> by default.</summary>
    public bool BlockNetwork { get; init; } = true;

    /// <summary>How long one run may take before it is killed; 30 seconds by default (whole seconds).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a sandbox may live at most (a per-conversation one too); 15 minutes by default.</summary>
    public TimeSpan SandboxTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The sandbox's memory limit in MiB; 1024 by default.</summary>
    public int MemoryLimitMiB { get; init; } = 1024;

    /// <summary>
    /// The most bytes of stdout, and of stderr, returned to the model (16 KiB by default). Longer output keeps its first
    /// and its last half of this, with a line saying how much was left out between them.
    /// </summary>
    public int MaxOutputBytes { get; init; } = 16 * 1024;

    /// <summary>The most written files listed in a result; 50 by default.</summary>
    public int MaxFilesListed { get; init; } = 50;

    /// <summary>The directory code runs in, and where <see cref="Files"/> and the files the result lists live; <c>/workspace</c> by default.</summary>
    public string WorkingDirectory { get; init; } = "/workspace";

    /// <summary>Files uploaded into a new sandbox before its first run, by path (relative to <see cref="WorkingDirectory"/>, or absolute).</summary>
    public IReadOnlyDictionary<string, ReadOnlyMemory<byte>>? Files { get; init; }

    /// <summary>Tags put on every sandbox the interpreter creates.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}
