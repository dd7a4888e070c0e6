namespace TypedSandbox.Generators.Model
{
    /// <summary>What a [Command] method returns.</summary>
    internal enum CommandResultKind
    {
        /// <summary><c>Task&lt;ExecResult&gt;</c>: waits and returns exit code, stdout and stderr.</summary>
        Buffered,

        /// <summary><c>Task&lt;ContainerProcess&gt;</c>: returns the running process to stream from.</summary>
        Streaming,

        /// <summary><c>Task&lt;int&gt;</c>: waits and returns the exit code.</summary>
        ExitCode,
    }

    /// <summary>One [Command] partial method.</summary>
    internal sealed record CommandSpec(
        string ContainingType,
        string MethodName,
        string Accessibility,
        CommandResultKind Result,
        EquatableArray<ParameterSpec> Parameters,
        EquatableArray<string> Args,
        string? Timeout,
        string? Workdir);

    /// <summary>A parameter of a [Command] method; <paramref name="DefaultValue"/> is C# text such as "default" or "\"x\"".</summary>
    internal sealed record ParameterSpec(string Name, string Type, bool IsCancellationToken, string? DefaultValue);

    /// <summary>A class and its commands: the emitter's whole input for one file.</summary>
    internal sealed record SandboxModel(SandboxClassSpec Class, EquatableArray<CommandSpec> Commands);
}
