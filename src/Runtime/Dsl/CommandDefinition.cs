using System.Globalization;
using TypedSandbox.Validation;

namespace TypedSandbox.Dsl;

/// <summary>
/// What <c>[Command]</c> declares: a command line with <c>{parameter}</c> placeholders and its options. Each
/// argument value replaces its placeholder inside one argument, formatted with the invariant culture; nothing goes
/// through a shell.
/// </summary>
public sealed class CommandDefinition
{
    private readonly CommandTemplate template;
    private readonly IReadOnlyList<string> parameterNames;
    private readonly Lazy<ExecOptions> options;

    /// <summary>Parses the command line and checks that every placeholder names a parameter.</summary>
    /// <param name="args">The program and its arguments, with placeholders.</param>
    /// <param name="parameterNames">The method's parameter names, in the order values are passed.</param>
    /// <exception cref="InvalidArgumentException">The command line is malformed or names an unknown placeholder.</exception>
    public CommandDefinition(IReadOnlyList<string> args, IReadOnlyList<string> parameterNames)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(parameterNames);
        if (!CommandTemplate.TryParse(args.ToList(), out var parsed, out var error, out _))
        {
            throw new InvalidArgumentException(error!);
        }

        if (parsed!.Placeholders.FirstOrDefault(p => !parameterNames.Contains(p)) is { } unknown)
        {
            throw new InvalidArgumentException($"Placeholder '{{{unknown}}}' does not name a parameter; use one of: {string.Join(", ", parameterNames.Select(n => "{" + n + "}"))}");
        }

        template = parsed;
        this.parameterNames = parameterNames;
        options = new Lazy<ExecOptions>(() => new ExecOptions
        {
            Timeout = Timeout is null ? null : SandboxDefinition.ParseDuration(Timeout, "Command timeout"),
            Workdir = Workdir is null ? null : Paths.CheckWorkdir(Workdir, "Command workdir") is { } workdirError ? throw new InvalidArgumentException(workdirError) : Workdir,
        });
    }

    /// <summary>Kills the command after this long ("30s").</summary>
    public string? Timeout { get; init; }

    /// <summary>The command's working directory.</summary>
    public string? Workdir { get; init; }

    /// <summary>The exec options built from <see cref="Timeout"/> and <see cref="Workdir"/>, checked by the shared rules.</summary>
    /// <exception cref="InvalidArgumentException">The timeout or working directory breaks a rule.</exception>
    public ExecOptions Options => options.Value;

    /// <summary>The command line for these argument values: one output argument per template argument.</summary>
    /// <param name="values">The values of the method's parameters, in <c>parameterNames</c> order.</param>
    public IReadOnlyList<string> Render(IReadOnlyList<object?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != parameterNames.Count)
        {
            throw new ArgumentException($"Expected {parameterNames.Count} values, got {values.Count}.", nameof(values));
        }

        return template.Render(name => Format(values[IndexOf(name)], name));
    }

    /// <summary>Runs the command and waits for its exit code and complete output.</summary>
    public Task<ExecResult> RunAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        return sandbox.RunAsync(Render(values), Options, cancellationToken);
    }

    /// <summary>Starts the command and returns the running process, to stream its output.</summary>
    public Task<ContainerProcess> StartAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        return sandbox.ExecAsync(Render(values), Options, cancellationToken);
    }

    /// <summary>Runs the command, discarding its output, and returns its exit code.</summary>
    public async Task<int> RunForExitCodeAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var quiet = Options with { Stdout = StdioMode.Ignore, Stderr = StdioMode.Ignore };
        var process = await sandbox.ExecAsync(Render(values), quiet, cancellationToken).ConfigureAwait(false);
        await using (process.ConfigureAwait(false))
        {
            return await process.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private int IndexOf(string name)
    {
        for (var i = 0; i < parameterNames.Count; i++)
        {
            if (parameterNames[i] == name)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Placeholder '{{{name}}}' has no parameter.");
    }

    private static string Format(object? value, string name) => value switch
    {
        null => throw new ArgumentNullException(name, $"Parameter '{name}' is null; a command argument needs a value."),
        string text => text,
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
