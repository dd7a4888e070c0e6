using System;

namespace TypedSandbox
{
    /// <summary>
    /// Turns a <c>partial</c> method of a <see cref="SandboxAttribute"/> class into a command run in the sandbox.
    /// <c>{parameter}</c> placeholders are replaced by the method's arguments, each inside its own argument and never
    /// through a shell; <c>{{</c> and <c>}}</c> stand for literal braces. The return type chooses the result:
    /// <c>Task&lt;ExecResult&gt;</c> (buffered output), <c>Task&lt;ContainerProcess&gt;</c> (streaming) or
    /// <c>Task&lt;int&gt;</c> (exit code only). A <c>CancellationToken</c> parameter cancels the command.
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
    }
}
