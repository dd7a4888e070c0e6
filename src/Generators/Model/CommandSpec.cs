namespace TypedSandbox.Generators.Model;

/// <summary>What a [Command] method returns.</summary>
internal enum CommandResultKind
{
    /// <summary><c>Task&lt;ExecResult&gt;</c>: waits and returns exit code, stdout and stderr.</summary>
    Buffered,

    /// <summary><c>Task&lt;ContainerProcess&gt;</c>: returns the running process to stream from.</summary>
    Streaming,

    /// <summary><c>Task&lt;int&gt;</c>: waits and returns the exit code.</summary>
    ExitCode,

    /// <summary><c>Task</c>: completes on exit code 0, throws otherwise.</summary>
    Completion,

    /// <summary><c>Task&lt;string&gt;</c>: stdout on exit code 0.</summary>
    Text,

    /// <summary><c>Task&lt;T&gt;</c>: stdout parsed as JSON on exit code 0.</summary>
    Json,

    /// <summary><c>IAsyncEnumerable&lt;string&gt;</c>: stdout lines as they arrive.</summary>
    Lines,

    /// <summary><c>IAsyncEnumerable&lt;T&gt;</c>: one JSON value per stdout line.</summary>
    JsonLines,
}

/// <summary>How a [Command] parameter reaches the command.</summary>
internal enum ParameterKind
{
    /// <summary>Fills placeholders.</summary>
    Placeholder,

    /// <summary>[Option(name)].</summary>
    Option,

    /// <summary>[Stdin].</summary>
    Stdin,

    /// <summary>[Env(name)].</summary>
    Env,

    /// <summary>The CancellationToken that cancels the call and kills the process.</summary>
    CancellationToken,
}

/// <summary>
/// One [Command] partial method. <paramref name="Accessibility"/> is the modifiers as written; a command with
/// <paramref name="HasErrors"/> (or an unsupported <paramref name="Result"/>) gets a body that throws, so the build
/// shows the TSB error rather than the compiler's complaint about a missing body.
/// </summary>
internal sealed record CommandSpec(
    string ContainingType,
    string MethodName,
    string Accessibility,
    CommandResultKind? Result,
    string ReturnType,
    bool HasErrors,
    EquatableArray<ParameterSpec> Parameters,
    EquatableArray<string> Args,
    string? Timeout,
    string? Workdir)
{
    /// <summary>The T of <c>Task&lt;T&gt;</c> or <c>IAsyncEnumerable&lt;T&gt;</c> for the JSON results, without nullable annotation.</summary>
    public string? ResultType { get; init; }

    /// <summary>[Command(Env)]: fixed KEY=VALUE entries.</summary>
    public EquatableArray<string> Env { get; init; }

    /// <summary>[Command(Secrets)]: secret names.</summary>
    public EquatableArray<string> Secrets { get; init; }

    /// <summary>Whether the method is static (then it only gets a throwing body).</summary>
    public bool IsStatic { get; init; }

    /// <summary>The containing class's namespace, or <see langword="null"/> for the global namespace.</summary>
    public string? Namespace { get; init; }

    /// <summary>The containing class's name.</summary>
    public string TypeName { get; init; } = string.Empty;

    /// <summary>"partial class Outer", "partial record Runner": the declarations that reopen the containing types, outermost first.</summary>
    public EquatableArray<string> Declarations { get; init; }

    /// <summary>
    /// Whether the containing class is a [Sandbox] class the generator completes; any other command (a class without
    /// [Sandbox], a nested class, a record) gets a throwing body in a file of its own, so no CS8795 hides its TSB error.
    /// </summary>
    public bool InSandboxClass { get; init; } = true;
}

/// <summary>A parameter of a [Command] method; <paramref name="DefaultValue"/> is C# text such as "default" or "\"x\"".</summary>
internal sealed record ParameterSpec(string Name, string Type, bool IsCancellationToken, string? DefaultValue)
{
    /// <summary>"ref", "out", "in", "ref readonly" or "params", as declared; such commands only get a throwing body.</summary>
    public string? Modifier { get; init; }

    /// <summary>How the value reaches the command.</summary>
    public ParameterKind Kind { get; init; }

    /// <summary>The option's or environment variable's name for <see cref="ParameterKind.Option"/> and <see cref="ParameterKind.Env"/>.</summary>
    public string? Key { get; init; }
}

/// <summary>What parsing a [Command] method gives: its spec when a body can be generated, and its errors.</summary>
internal sealed record CommandParse(CommandSpec? Spec, EquatableArray<DiagnosticInfo> Errors);

/// <summary>A class and its commands: the emitter's whole input for one file.</summary>
internal sealed record SandboxModel(SandboxClassSpec Class, EquatableArray<CommandSpec> Commands)
{
    /// <summary>Set when another class's name differs only by case: the hint name then carries a hash of the exact name.</summary>
    public bool HintNameCollides { get; init; }
}
