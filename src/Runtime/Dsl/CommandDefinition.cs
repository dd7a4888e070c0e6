using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using TypedSandbox.Validation;

namespace TypedSandbox.Dsl;

/// <summary>
/// What <c>[Command]</c> declares: a command line with <c>{parameter}</c> placeholders, its typed parameters
/// (placeholders, options, stdin, environment) and its options. Each value replaces its placeholder inside one
/// argument, formatted with the invariant culture; nothing goes through a shell. Every result form generated code
/// asks for is one method here, and each runs to the process's exit (or kills it when the call is cancelled).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class CommandDefinition
{
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    private readonly CommandTemplate _template;
    private readonly IReadOnlyList<CommandParameter> _parameters;
    private readonly Lazy<ExecOptions> _options;

    /// <summary>One value as text: invariant culture, dates as ISO 8601 round-trip, enums by name.</summary>
    internal static string Format(object value) => CommandArguments.Format(value);

    /// <summary>Parses the command line; every parameter fills placeholders.</summary>
    /// <param name="args">The program and its arguments, with placeholders.</param>
    /// <param name="parameterNames">The method's parameter names, in the order values are passed.</param>
    /// <exception cref="InvalidArgumentException">The command line is malformed or names an unknown placeholder.</exception>
    public CommandDefinition(IReadOnlyList<string> args, IReadOnlyList<string> parameterNames)
        : this(args, (parameterNames ?? throw new ArgumentNullException(nameof(parameterNames))).Select(CommandParameter.Placeholder).ToList())
    {
    }

    /// <summary>Parses the command line and checks that every placeholder names a placeholder parameter.</summary>
    /// <param name="args">The program and its arguments, with placeholders.</param>
    /// <param name="parameters">The method's parameters (without its CancellationToken), in the order values are passed.</param>
    /// <exception cref="InvalidArgumentException">The command line is malformed or names an unknown placeholder.</exception>
    public CommandDefinition(IReadOnlyList<string> args, IReadOnlyList<CommandParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(parameters);
        if (!CommandTemplate.TryParse(args.ToList(), out var parsed, out var error, out _))
        {
            throw new InvalidArgumentException(error!);
        }

        var names = parameters.Where(p => p.Kind == CommandParameterKind.Placeholder).Select(p => p.Name).ToList();
        if (parsed!.Placeholders.FirstOrDefault(p => !names.Contains(p)) is { } unknown)
        {
            throw new InvalidArgumentException($"Placeholder '{{{unknown}}}' does not name a parameter; use one of: {string.Join(", ", names.Select(n => "{" + n + "}"))}");
        }

        _template = parsed;
        _parameters = parameters;
        _options = new Lazy<ExecOptions>(BuildOptions);
    }

    /// <summary>Kills the command after this long ("30s").</summary>
    public string? Timeout { get; init; }

    /// <summary>The command's working directory.</summary>
    public string? Workdir { get; init; }

    /// <summary>Fixed environment variables of the command, as <c>KEY=VALUE</c>.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Names of secrets whose values become environment variables of the command.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>The exec options built from <see cref="Timeout"/>, <see cref="Workdir"/> and <see cref="Env"/>, checked by the shared rules.</summary>
    /// <exception cref="InvalidArgumentException">The timeout, working directory or an environment entry breaks a rule.</exception>
    public ExecOptions Options => _options.Value;

    /// <summary>The command line for these values: placeholders filled, then the options in parameter order.</summary>
    /// <param name="values">The values of the method's parameters, in the order of the definition's parameters.</param>
    public IReadOnlyList<string> Render(IReadOnlyList<object?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != _parameters.Count)
        {
            throw new ArgumentException($"Expected {_parameters.Count} values, got {values.Count}.", nameof(values));
        }

        List<string> line;
        try
        {
            line = _template.Render((name, whole) => CommandArguments.ValuesOf(values[IndexOf(name)], name, whole)).ToList();
        }
        catch (ArgumentException e) when (e.ParamName == "valuesOf")
        {
            throw new InvalidArgumentException(e.Message.Split(" (Parameter")[0]);
        }

        for (var i = 0; i < _parameters.Count; i++)
        {
            if (_parameters[i] is { Kind: CommandParameterKind.Option, Key: { } option })
            {
                CommandArguments.AppendOption(line, option, values[i]);
            }
        }

        return line;
    }

    /// <summary><c>Task&lt;ExecResult&gt;</c>: the exit code and complete output; a timeout reports exit code 137 with the output so far.</summary>
    public async Task<ExecResult> RunAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken)
    {
        var (result, timedOut) = await CollectAsync(sandbox, values, Options, cancellationToken).ConfigureAwait(false);
        return timedOut is null ? result : result with { ExitCode = 137 };
    }

    /// <summary><c>Task&lt;int&gt;</c>: the exit code (137 after a timeout); the output is discarded.</summary>
    public async Task<int> RunForExitCodeAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken)
    {
        var quiet = Options with { Stdout = StdioMode.Ignore, Stderr = StdioMode.Ignore };
        var (result, timedOut) = await CollectAsync(sandbox, values, quiet, cancellationToken).ConfigureAwait(false);
        return timedOut is null ? result.ExitCode : 137;
    }

    /// <summary><c>Task</c>: completes when the command exits with 0; otherwise throws.</summary>
    /// <exception cref="ExecFailedException">The exit code is not 0.</exception>
    /// <exception cref="ExecTimeoutException">The command ran past its timeout.</exception>
    public async Task RunCheckedAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken) =>
        await RunSucceededAsync(sandbox, values, cancellationToken).ConfigureAwait(false);

    /// <summary><c>Task&lt;string&gt;</c>: stdout as text when the command exits with 0; otherwise throws.</summary>
    /// <exception cref="ExecFailedException">The exit code is not 0.</exception>
    /// <exception cref="ExecTimeoutException">The command ran past its timeout.</exception>
    public async Task<string> RunForTextAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken) =>
        (await RunSucceededAsync(sandbox, values, cancellationToken).ConfigureAwait(false)).Stdout;

    /// <summary>
    /// <c>Task&lt;T&gt;</c>: stdout parsed as JSON when the command exits with 0, through <paramref name="jsonContext"/>'s
    /// metadata for <typeparamref name="T"/> (never reflection), or with the web defaults when there is no context.
    /// </summary>
    /// <exception cref="ExecFailedException">The exit code is not 0.</exception>
    /// <exception cref="ExecTimeoutException">The command ran past its timeout.</exception>
    /// <exception cref="ExecOutputException">Stdout is not valid JSON for <typeparamref name="T"/>.</exception>
    /// <exception cref="InvalidOperationException">The context has no metadata for <typeparamref name="T"/> (nothing runs).</exception>
    public async Task<T> RunForJsonAsync<T>(Sandbox sandbox, object?[] values, JsonSerializerContext? jsonContext, CancellationToken cancellationToken)
    {
        var typeInfo = TypeInfoFrom<T>(jsonContext);
        var result = await RunSucceededAsync(sandbox, values, cancellationToken).ConfigureAwait(false);
        return ParseJson(result.Stdout, typeInfo, "stdout");
    }

    /// <summary><c>Task&lt;ContainerProcess&gt;</c>: the running process, to stream from and write to.</summary>
    public async Task<ContainerProcess> StartAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var (process, _) = await StartCoreAsync(sandbox, values, Options, cancellationToken).ConfigureAwait(false);
        return process;
    }

    /// <summary><c>IAsyncEnumerable&lt;string&gt;</c>: stdout lines as they arrive; a failure throws at the end of the enumeration.</summary>
    /// <exception cref="ExecFailedException">The exit code is not 0.</exception>
    /// <exception cref="ExecTimeoutException">The command ran past its timeout.</exception>
    public IAsyncEnumerable<string> StreamLinesAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken) =>
        StreamAsync(sandbox, values, static line => line, skipEmptyLines: false, cancellationToken);

    /// <summary>
    /// <c>IAsyncEnumerable&lt;T&gt;</c>: one JSON value per stdout line (JSON Lines) as they arrive, read as
    /// <see cref="RunForJsonAsync{T}"/> reads stdout; empty lines are skipped.
    /// </summary>
    /// <exception cref="ExecFailedException">The exit code is not 0.</exception>
    /// <exception cref="ExecOutputException">A line is not valid JSON for <typeparamref name="T"/>.</exception>
    /// <exception cref="InvalidOperationException">The context has no metadata for <typeparamref name="T"/> (nothing runs).</exception>
    public IAsyncEnumerable<T> StreamJsonLinesAsync<T>(Sandbox sandbox, object?[] values, JsonSerializerContext? jsonContext, CancellationToken cancellationToken)
    {
        var typeInfo = TypeInfoFrom<T>(jsonContext);
        return StreamAsync(sandbox, values, line => ParseJson(line, typeInfo, "a stdout line"), skipEmptyLines: true, cancellationToken);
    }

    /// <summary>The context's metadata for <typeparamref name="T"/>; null (web defaults) without a context.</summary>
    private static JsonTypeInfo<T>? TypeInfoFrom<T>(JsonSerializerContext? jsonContext) =>
        jsonContext is null
            ? null
            : jsonContext.GetTypeInfo(typeof(T)) as JsonTypeInfo<T> ?? throw new InvalidOperationException(
                $"{jsonContext.GetType().Name} has no JSON metadata for {typeof(T).Name}; add [JsonSerializable(typeof({typeof(T).Name}))] to it.");

    private async IAsyncEnumerable<T> StreamAsync<T>(
        Sandbox sandbox, object?[] values, Func<string, T> parse, bool skipEmptyLines, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var (process, kill) = await StartCoreAsync(sandbox, values, Options, cancellationToken).ConfigureAwait(false);
        var exited = false;
        try
        {
            var stderr = ProcessStreams.ReadAllAsync(process.Stderr, cancellationToken);
            await foreach (var line in process.Stdout.ReadLinesAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!skipEmptyLines || line.Length > 0)
                {
                    yield return parse(line);
                }
            }

            var code = await ProcessStreams.WaitOrTimeoutAsync(process, cancellationToken).ConfigureAwait(false);
            exited = true;
            var result = new ExecResult(code ?? 137, string.Empty, await stderr.ConfigureAwait(false));
            if (code is null)
            {
                throw new ExecTimeoutException($"The command ran past its timeout of {Options.Timeout?.TotalSeconds:0.###} s and was killed.", result);
            }

            if (code != 0)
            {
                throw new ExecFailedException(result);
            }
        }
        finally
        {
            // An enumeration abandoned early leaves the process running: kill it, as a cancelled call would.
            if (!exited)
            {
                await kill.KillAsync().ConfigureAwait(false);
            }

            await kill.DisposeAsync().ConfigureAwait(false);
            await process.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<ExecResult> RunSucceededAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken)
    {
        var (result, timedOut) = await CollectAsync(sandbox, values, Options, cancellationToken).ConfigureAwait(false);
        if (timedOut is not null)
        {
            throw new ExecTimeoutException(timedOut, result with { ExitCode = 137 });
        }

        return result.Succeeded ? result : throw new ExecFailedException(result);
    }

    /// <summary>Runs to the exit, keeping the output; after a timeout the message is set and the output is what arrived before the kill.</summary>
    private async Task<(ExecResult Result, string? TimedOut)> CollectAsync(Sandbox sandbox, object?[] values, ExecOptions execOptions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var (process, kill) = await StartCoreAsync(sandbox, values, execOptions, cancellationToken).ConfigureAwait(false);
        await using (kill.ConfigureAwait(false))
        await using (process.ConfigureAwait(false))
        {
            var stdout = ProcessStreams.ReadAllAsync(process.Stdout, cancellationToken);
            var stderr = ProcessStreams.ReadAllAsync(process.Stderr, cancellationToken);
            var code = await ProcessStreams.WaitOrTimeoutAsync(process, cancellationToken).ConfigureAwait(false);
            var result = new ExecResult(code ?? 137, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
            return (result, code is null ? $"The command ran past its timeout of {execOptions.Timeout?.TotalSeconds:0.###} s and was killed." : null);
        }
    }

    /// <summary>Starts the process, writes the [Stdin] value, and arranges for cancellation to kill it in the sandbox.</summary>
    private async Task<(ContainerProcess Process, ProcessKiller Kill)> StartCoreAsync(Sandbox sandbox, object?[] values, ExecOptions execOptions, CancellationToken cancellationToken)
    {
        var line = Render(values);
        var env = new Dictionary<string, string>(execOptions.Env ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        object? stdin = null;
        for (var i = 0; i < _parameters.Count; i++)
        {
            switch (_parameters[i])
            {
                case { Kind: CommandParameterKind.Env, Key: { } key } when values[i] is { } value:
                    env[key] = CommandArguments.Format(value);
                    break;
                case { Kind: CommandParameterKind.Stdin }:
                    stdin = values[i];
                    break;
            }
        }

        var marker = ProcessKiller.NewMarker();
        env[ProcessKiller.Variable] = marker;
        var secrets = new List<Secret>(execOptions.Secrets ?? []);
        foreach (var name in Secrets)
        {
            secrets.Add(await sandbox.Client.Secrets.FromNameAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false));
        }

        var process = await sandbox.ExecAsync(line, execOptions with { Env = env, Secrets = secrets }, cancellationToken).ConfigureAwait(false);
        var kill = new ProcessKiller(sandbox, marker, cancellationToken);
        try
        {
            if (stdin is not null)
            {
                await ProcessStreams.WriteStdinAsync(process, stdin, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await kill.KillAsync().ConfigureAwait(false);
            await kill.DisposeAsync().ConfigureAwait(false);
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return (process, kill);
    }

    private ExecOptions BuildOptions()
    {
        var problems = CommandRules.Check(new CommandDeclaration { Timeout = TimeoutSetting.FromText(Timeout), Workdir = Workdir, Env = Env, Secrets = Secrets });
        if (ProblemList.Describe(problems) is { } problem)
        {
            throw new InvalidArgumentException(problem);
        }

        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Env)
        {
            EnvironmentKeys.CheckEntry(entry, out var key, out var value);
            env[key] = value;
        }

        return new ExecOptions
        {
            Timeout = Timeout is null ? null : SandboxDefinition.ParseDuration(Timeout, "Command timeout"),
            Workdir = Workdir,
            Env = env.Count > 0 ? env : null,
        };
    }

    private static T ParseJson<T>(string text, JsonTypeInfo<T>? typeInfo, string what)
    {
        try
        {
            var value = typeInfo is null ? JsonSerializer.Deserialize<T>(text, WebJson) : JsonSerializer.Deserialize(text, typeInfo);
            return value ?? throw new JsonException("The JSON is null.");
        }
        catch (JsonException e)
        {
            var start = text.Length > 200 ? text[..200] + "…" : text;
            throw new ExecOutputException($"The command's {what} is not valid JSON for {typeof(T).Name} ({e.Message}); it starts: {start}", e);
        }
    }

    private int IndexOf(string name)
    {
        for (var i = 0; i < _parameters.Count; i++)
        {
            if (_parameters[i].Name == name)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Placeholder '{{{name}}}' has no parameter.");
    }
}
