using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
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

    private readonly CommandTemplate template;
    private readonly IReadOnlyList<CommandParameter> parameters;
    private readonly Lazy<ExecOptions> options;

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

        template = parsed;
        this.parameters = parameters;
        options = new Lazy<ExecOptions>(BuildOptions);
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
    public ExecOptions Options => options.Value;

    /// <summary>The command line for these values: placeholders filled, then the options in parameter order.</summary>
    /// <param name="values">The values of the method's parameters, in the order of the definition's parameters.</param>
    public IReadOnlyList<string> Render(IReadOnlyList<object?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != parameters.Count)
        {
            throw new ArgumentException($"Expected {parameters.Count} values, got {values.Count}.", nameof(values));
        }

        List<string> line;
        try
        {
            line = template.Render((name, whole) => ValuesOf(values[IndexOf(name)], name, whole)).ToList();
        }
        catch (ArgumentException e) when (e.ParamName == "valuesOf")
        {
            throw new InvalidArgumentException(e.Message.Split(" (Parameter")[0]);
        }

        for (var i = 0; i < parameters.Count; i++)
        {
            if (parameters[i] is { Kind: CommandParameterKind.Option, Key: { } option })
            {
                AppendOption(line, option, values[i], parameters[i].Name);
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
            var stderr = ReadAllAsync(process.Stderr, cancellationToken);
            await foreach (var line in process.Stdout.ReadLinesAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!skipEmptyLines || line.Length > 0)
                {
                    yield return parse(line);
                }
            }

            var code = await WaitOrTimeoutAsync(process, cancellationToken).ConfigureAwait(false);
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
            var stdout = ReadAllAsync(process.Stdout, cancellationToken);
            var stderr = ReadAllAsync(process.Stderr, cancellationToken);
            var code = await WaitOrTimeoutAsync(process, cancellationToken).ConfigureAwait(false);
            var result = new ExecResult(code ?? 137, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
            return (result, code is null ? $"The command ran past its timeout of {execOptions.Timeout?.TotalSeconds:0.###} s and was killed." : null);
        }
    }

    /// <summary>The exit code, or <see langword="null"/> when the process was killed at its timeout.</summary>
    private static async Task<int?> WaitOrTimeoutAsync(ContainerProcess process, CancellationToken cancellationToken)
    {
        try
        {
            return await process.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ExecTimeoutException)
        {
            return null;
        }
    }

    /// <summary>Reads a stream to its end as UTF-8; a timeout ends it with what arrived until then.</summary>
    private static async Task<string> ReadAllAsync(SandboxOutputStream stream, CancellationToken cancellationToken)
    {
        var bytes = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int count;
            while ((count = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                bytes.Write(buffer, 0, count);
            }
        }
        catch (ExecTimeoutException)
        {
            // The process was killed at its timeout: keep what it wrote.
        }

        return Encoding.UTF8.GetString(bytes.GetBuffer(), 0, (int)bytes.Length);
    }

    /// <summary>Starts the process, writes the [Stdin] value, and arranges for cancellation to kill it in the sandbox.</summary>
    private async Task<(ContainerProcess Process, ProcessKiller Kill)> StartCoreAsync(Sandbox sandbox, object?[] values, ExecOptions execOptions, CancellationToken cancellationToken)
    {
        var line = Render(values);
        var env = new Dictionary<string, string>(execOptions.Env ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        object? stdin = null;
        for (var i = 0; i < parameters.Count; i++)
        {
            switch (parameters[i])
            {
                case { Kind: CommandParameterKind.Env, Key: { } key } when values[i] is { } value:
                    env[key] = Format(value);
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
                await WriteStdinAsync(process, stdin, cancellationToken).ConfigureAwait(false);
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

    private static async Task WriteStdinAsync(ContainerProcess process, object value, CancellationToken cancellationToken)
    {
        switch (value)
        {
            case string text:
                await process.Stdin.WriteAsync(text, cancellationToken).ConfigureAwait(false);
                break;
            case byte[] bytes:
                await process.Stdin.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                break;
            case Stream stream:
                await stream.CopyToAsync(process.Stdin, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new InvalidArgumentException($"A [Stdin] value must be a string, byte[] or Stream, not {value.GetType().Name}");
        }

        await process.Stdin.CloseAsync(cancellationToken).ConfigureAwait(false);
    }

    private ExecOptions BuildOptions()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Env)
        {
            if (EnvironmentKeys.CheckEntry(entry, out var key, out var value) is { } envError)
            {
                throw new InvalidArgumentException(envError);
            }

            env[key!] = value!;
        }

        return new ExecOptions
        {
            Timeout = Timeout is null ? null : SandboxDefinition.ParseDuration(Timeout, "Command timeout"),
            Workdir = Workdir is null ? null : Paths.CheckWorkdir(Workdir, "Command workdir") is { } workdirError ? throw new InvalidArgumentException(workdirError) : Workdir,
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
        for (var i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].Name == name)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Placeholder '{{{name}}}' has no parameter.");
    }

    /// <summary>A placeholder's values: none (null, the argument is left out), one, or one per element of a collection.</summary>
    private static List<string>? ValuesOf(object? value, string name, bool wholeArgument)
    {
        if (value is null)
        {
            return null;
        }

        if (value is string text)
        {
            return [text];
        }

        if (value is IEnumerable sequence)
        {
            if (!wholeArgument)
            {
                throw new InvalidArgumentException($"Parameter '{name}' is a collection, but its placeholder is inside a longer argument; a collection fills only a placeholder that is a whole argument, such as \"{{{name}}}\"");
            }

            return sequence.Cast<object?>().Where(e => e is not null).Select(e => Format(e!)).ToList();
        }

        return [Format(value)];
    }

    private static void AppendOption(List<string> line, string option, object? value, string name)
    {
        switch (value)
        {
            case null:
            case false:
                return;
            case true:
                line.Add(option);
                return;
            case string text:
                AddOption(line, option, text);
                return;
            case IEnumerable sequence:
                foreach (var element in sequence)
                {
                    if (element is not null)
                    {
                        AddOption(line, option, Format(element));
                    }
                }

                return;
            default:
                AddOption(line, option, Format(value));
                return;
        }

        static void AddOption(List<string> line, string option, string value)
        {
            if (option.EndsWith('='))
            {
                line.Add(option + value);
            }
            else
            {
                line.Add(option);
                line.Add(value);
            }
        }
    }

    /// <summary>One value as text: invariant culture, dates as ISO 8601 round-trip, enums by name.</summary>
    internal static string Format(object value) => value switch
    {
        string text => text,
        bool flag => flag ? "true" : "false",
        DateTime date => date.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset date => date.ToString("O", CultureInfo.InvariantCulture),
        DateOnly date => date.ToString("O", CultureInfo.InvariantCulture),
        TimeOnly time => time.ToString("O", CultureInfo.InvariantCulture),
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        Enum member => member.ToString(),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
