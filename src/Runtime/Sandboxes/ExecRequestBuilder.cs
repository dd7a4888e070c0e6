using TypedSandbox.Errors;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Validation;

namespace TypedSandbox.Sandboxes;

/// <summary>Turns a command and its <see cref="ExecOptions"/> into the router's <c>TaskExecStart</c> request.</summary>
internal static class ExecRequestBuilder
{
    /// <summary>The most argument bytes one exec may carry (Modal's limit).</summary>
    public const int MaxCommandLength = 65536;

    /// <summary>Validates an exec and builds its start request (task id still to be filled in).</summary>
    public static TaskExecStartRequest Build(IReadOnlyList<string> command, ExecOptions options)
    {
        if (command.Count == 0)
        {
            throw new InvalidArgumentException("The command must name a program to run.");
        }
        var length = 0;
        foreach (var argument in command)
        {
            if (argument is null)
            {
                throw new InvalidArgumentException("Command arguments must not be null.");
            }
            length += argument.Length;
        }
        if (length > MaxCommandLength)
        {
            throw new InvalidArgumentException($"The command's arguments total {length} characters; at most {MaxCommandLength} are allowed.");
        }
        var request = new TaskExecStartRequest
        {
            ExecId = Guid.NewGuid().ToString(),
            StdoutConfig = options.Stdout == StdioMode.Pipe ? TaskExecStdoutConfig.Pipe : TaskExecStdoutConfig.Devnull,
            StderrConfig = options.Stderr == StdioMode.Pipe ? TaskExecStderrConfig.Pipe : TaskExecStderrConfig.Devnull,
        };
        request.CommandArgs.Add(command);
        if (options.Timeout is { } timeout)
        {
            request.TimeoutSecs = SandboxOptionRules.WholeSeconds(timeout, "Exec timeout");
        }
        if (options.Workdir is { } workdir)
        {
            Rules.Enforce(Paths.CheckWorkdir(workdir, "Exec workdir"));
            request.Workdir = workdir;
        }
        foreach (var key in options.Env?.Keys ?? [])
        {
            Image.EnsureEnvironmentVariableName(key);
        }
        request.SecretSources.Add(SandboxRequestBuilder.SecretSources(options.Secrets, options.Env));
        if (options.Pty is { } pty)
        {
            request.PtyInfo = pty.ToProtocol();
        }

        return request;
    }
}
