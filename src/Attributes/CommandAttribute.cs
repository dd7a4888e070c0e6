using System;

namespace TypedSandbox;

/// <summary>
/// Turns a <c>partial</c> method of a <see cref="SandboxAttribute"/> class into a command run in the sandbox.
/// <c>{parameter}</c> placeholders are replaced by the method's arguments, each inside its own argument and never
/// through a shell (numbers, dates and the like in the invariant culture; a collection that is a whole argument
/// becomes one argument per element; an argument whose value is <see langword="null"/> is left out);
/// <c>{{</c> and <c>}}</c> stand for literal braces. <see cref="OptionAttribute"/>, <see cref="StdinAttribute"/> and
/// <see cref="EnvAttribute"/> parameters are not placeholders. The return type chooses the result:
/// <c>Task</c> (throws on failure), <c>Task&lt;int&gt;</c> (exit code), <c>Task&lt;string&gt;</c> (stdout),
/// <c>Task&lt;ExecResult&gt;</c>, <c>Task&lt;ContainerProcess&gt;</c> (streaming), <c>Task&lt;T&gt;</c> (stdout as
/// JSON), <c>IAsyncEnumerable&lt;string&gt;</c> (stdout lines) or <c>IAsyncEnumerable&lt;T&gt;</c> (JSON Lines).
/// A <c>CancellationToken</c> parameter cancels the call and kills the process in the sandbox.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class CommandAttribute : Attribute
{
    /// <summary>Runs <paramref name="args"/>, for example <c>[Command("pytest", "-q", "{path}")]</c>.</summary>
    /// <param name="args">The program and its arguments, with <c>{parameter}</c> placeholders.</param>
    public CommandAttribute(params string[] args)
    {
        Args = args;
    }

    /// <summary>The program and its arguments, with placeholders.</summary>
    public string[] Args { get; }

    /// <summary>Kills the command after this long, for example <c>"30s"</c>; at most the sandbox's timeout.</summary>
    public string? Timeout { get; set; }

    /// <summary>The command's absolute working directory.</summary>
    public string? Workdir { get; set; }

    /// <summary>Fixed environment variables of this command, as <c>KEY=VALUE</c>.</summary>
    public string[]? Env { get; set; }

    /// <summary>Names of secrets whose values become environment variables of this command.</summary>
    public string[]? Secrets { get; set; }
}
