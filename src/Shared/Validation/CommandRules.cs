using System.Collections.Generic;

namespace TypedSandbox.Validation;

/// <summary>The settings of one <c>[Command]</c> as the rule book reads them (its template is checked with its parameters).</summary>
internal sealed class CommandDeclaration
{
    /// <summary>Kills the command after this long.</summary>
    public TimeoutSetting Timeout { get; set; }

    /// <summary>The timeout of the sandbox the command runs in; <see cref="Limits.DefaultSandboxTimeout"/> when not set.</summary>
    public TimeoutSetting SandboxTimeout { get; set; }

    /// <summary>Whether the sandbox is known (a command outside a [Sandbox] class has no sandbox timeout to stay under).</summary>
    public bool SandboxKnown { get; set; }

    /// <summary>The working directory; not checked when <see langword="null"/>.</summary>
    public string? Workdir { get; set; }

    /// <summary>Environment entries as <c>KEY=VALUE</c>.</summary>
    public IReadOnlyList<string?> Env { get; set; } = System.Array.Empty<string?>();

    /// <summary>Names of secrets.</summary>
    public IReadOnlyList<string?> Secrets { get; set; } = System.Array.Empty<string?>();
}

/// <summary>Which rules apply to a command and to an entrypoint, written once.</summary>
internal static class CommandRules
{
    /// <summary>Checks the settings of a command.</summary>
    /// <returns>Every problem; empty when valid.</returns>
    public static ProblemList Check(CommandDeclaration command)
    {
        var problems = new ProblemList();
        for (var i = 0; i < command.Env.Count; i++)
        {
            problems.Add(EnvironmentKeys.CheckEntry(command.Env[i], out _, out _), Rule.EnvironmentKey, "Env", i);
        }

        for (var i = 0; i < command.Secrets.Count; i++)
        {
            problems.Add(ObjectNames.Check(command.Secrets[i], "Secret name"), Rule.Name, "Secrets", i);
        }

        problems.Add(command.Timeout.Check("Command timeout", out var timeout), Rule.Timeout, "Timeout");
        if (timeout is { } value && command.SandboxKnown)
        {
            command.SandboxTimeout.Check("Timeout", out var sandboxTimeout);
            var limit = command.SandboxTimeout.IsSet ? sandboxTimeout : Limits.DefaultSandboxTimeout;
            if (limit is { } limitValue)
            {
                problems.Add(SandboxSettings.CheckCommandTimeout(value, limitValue), Rule.CommandTimeoutExceedsTimeout, "Timeout");
            }
        }

        if (command.Workdir is not null)
        {
            problems.Add(Paths.CheckWorkdir(command.Workdir, "Command workdir"), Rule.Workdir, "Workdir");
        }

        return problems;
    }

    /// <summary>
    /// Checks an entrypoint: a well-formed command line without placeholders (it has no parameters to fill them).
    /// </summary>
    /// <returns>Every problem; field "Entrypoint", index the argument at fault or -1 for the whole entrypoint.</returns>
    public static ProblemList CheckEntrypoint(IReadOnlyList<string?> args)
    {
        var problems = new ProblemList();
        if (args.Count == 0)
        {
            problems.Add("Entrypoint has no program; give the program and its arguments, such as [Entrypoint(\"python\", \"-m\", \"http.server\")]", Rule.Command, "Entrypoint");
            return problems;
        }

        if (!CommandTemplate.TryParse(args, out _, out var error, out var errorIndex))
        {
            problems.Add(error!.Replace("Command", "Entrypoint"), Rule.Command, "Entrypoint", errorIndex);
            return problems;
        }

        for (var i = 0; i < args.Count; i++)
        {
            var placeholders = CommandTemplate.PlaceholdersOf(args[i]);
            if (placeholders.Count > 0)
            {
                problems.Add(
                    $"Entrypoint argument '{args[i]}' has placeholder '{{{placeholders[0]}}}', but an entrypoint has no parameters; write '{{{{' and '}}}}' for literal braces",
                    Rule.Command,
                    "Entrypoint",
                    i);
            }
        }

        return problems;
    }
}

/// <summary>Which rules apply to an image declaration, written once.</summary>
internal static class ImageRules
{
    /// <summary>Checks an image's reference (when given), environment entries and working directory.</summary>
    /// <returns>Every problem; fields "Reference", "Env" and "Workdir".</returns>
    public static ProblemList Check(string? reference, bool hasReference, IReadOnlyList<string?> env, string? workdir)
    {
        var problems = new ProblemList();
        if (hasReference)
        {
            problems.Add(ImageReferences.Check(reference), Rule.ImageReference, "Reference");
        }

        for (var i = 0; i < env.Count; i++)
        {
            problems.Add(EnvironmentKeys.CheckEntry(env[i], out _, out _), Rule.EnvironmentKey, "Env", i);
        }

        if (workdir is not null)
        {
            problems.Add(Paths.CheckWorkdir(workdir, "Image workdir"), Rule.Workdir, "Workdir");
        }

        return problems;
    }
}
