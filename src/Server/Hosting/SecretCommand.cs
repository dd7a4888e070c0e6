using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.State;

namespace TypedSandbox.Server.Hosting;

/// <summary>
/// <c>typedsandbox-server secret set|list|delete</c>: named secrets written straight into the state database (the engine
/// may be running; SQLite serializes the writers). SDKs then find them with <c>secrets.fromName</c>.
/// </summary>
internal static class SecretCommand
{
    /// <summary>The help text.</summary>
    public const string Usage = """
        Usage: typedsandbox-server secret set NAME KEY=VALUE|KEY... [--state-dir DIR] [--env ENVIRONMENT]
               typedsandbox-server secret list [--state-dir DIR] [--env ENVIRONMENT]
               typedsandbox-server secret delete NAME [--state-dir DIR] [--env ENVIRONMENT]
          set      creates or replaces the secret; a bare KEY takes its value from this shell's environment,
                   which keeps the value out of the command line
          list     names and keys (never values)
          --env    the Modal environment (default: none, what the SDKs use when no environment is configured)
        """;

    /// <summary>Runs the command (<paramref name="args"/> without the leading <c>secret</c>); returns the exit code.</summary>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args, Func<string, string?> environment, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Count == 0 || args[0] is "--help" or "-h")
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return args.Count == 0 ? 2 : 0;
        }

        var stateDirectory = environment("TYPEDSANDBOX_STATE_DIR") is { Length: > 0 } fromEnvironment ? fromEnvironment : EngineOptions.DefaultStateDirectory();
        var modalEnvironment = SecretStore.DefaultEnvironment;
        var words = new List<string>();
        for (var i = 1; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--state-dir" when i + 1 < args.Count:
                    stateDirectory = Path.GetFullPath(args[++i]);
                    break;
                case "--env" when i + 1 < args.Count:
                    modalEnvironment = args[++i];
                    break;
                case "--state-dir" or "--env":
                    return await FailAsync(error, $"'{args[i]}' is missing its value.").ConfigureAwait(false);
                default:
                    words.Add(args[i]);
                    break;
            }
        }

        var verb = args[0];
        if (verb is not ("set" or "list" or "delete"))
        {
            return await FailAsync(error, $"'secret {verb}' is not a command; use set, list or delete.").ConfigureAwait(false);
        }

        if ((verb == "set" && words.Count < 2) || (verb == "delete" && words.Count != 1) || (verb == "list" && words.Count != 0))
        {
            return await FailAsync(error, $"'secret {verb}' got the wrong arguments.").ConfigureAwait(false);
        }

        Dictionary<string, string> values = new(StringComparer.Ordinal);
        if (verb == "set")
        {
            foreach (var word in words.Skip(1))
            {
                var equals = word.IndexOf('=', StringComparison.Ordinal);
                var key = equals < 0 ? word : word[..equals];
                var value = equals < 0 ? environment(word) : word[(equals + 1)..];
                if (value is null)
                {
                    return await FailAsync(error, $"'{key}' has no value: write {key}=VALUE, or set {key} in this shell's environment.").ConfigureAwait(false);
                }

                if (!values.TryAdd(key, value))
                {
                    return await FailAsync(error, $"'{key}' is given twice.").ConfigureAwait(false);
                }
            }
        }

        Directory.CreateDirectory(stateDirectory);
        var database = await StateDatabase.OpenAsync(Path.Combine(stateDirectory, "state.db"), cancellationToken).ConfigureAwait(false);
        await using (database.ConfigureAwait(false))
        {
            var secrets = new SecretStore(database, TimeProvider.System);
            try
            {
                switch (verb)
                {
                    case "set":
                        var id = await secrets.PutNamedAsync(modalEnvironment, words[0], values, cancellationToken).ConfigureAwait(false);
                        await output.WriteLineAsync($"Secret '{words[0]}' ({id}) set with keys: {string.Join(", ", values.Keys.Order(StringComparer.Ordinal))}").ConfigureAwait(false);
                        return 0;
                    case "delete":
                        if (!await secrets.DeleteNamedAsync(modalEnvironment, words[0], cancellationToken).ConfigureAwait(false))
                        {
                            return await FailAsync(error, $"Secret '{words[0]}' not found.").ConfigureAwait(false);
                        }

                        await output.WriteLineAsync($"Secret '{words[0]}' deleted").ConfigureAwait(false);
                        return 0;
                    default:
                        foreach (var (name, keys) in await secrets.ListNamedAsync(modalEnvironment, cancellationToken).ConfigureAwait(false))
                        {
                            await output.WriteLineAsync($"{name}\t{string.Join(",", keys)}").ConfigureAwait(false);
                        }

                        return 0;
                }
            }
            catch (EngineException exception)
            {
                return await FailAsync(error, exception.Message).ConfigureAwait(false);
            }
        }
    }

    private static async Task<int> FailAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync(message).ConfigureAwait(false);
        await error.WriteLineAsync(Usage).ConfigureAwait(false);
        return 2;
    }
}
