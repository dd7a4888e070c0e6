using System.Globalization;
using System.Net;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Hosting;

/// <summary>The outcome of parsing the engine's command line.</summary>
public sealed record ParsedCommandLine(EngineOptions? Options, bool ShowHelp, string? Error);

/// <summary>Parses the engine's switches; environment variables fill what the command line leaves out.</summary>
public static class EngineCommandLine
{
    /// <summary>The help text.</summary>
    public const string Usage = """
        Usage: typedsandbox-server [options]
          --port N                 TCP port on the bind address (default 8765; 0 = any free port)
          --bind ADDRESS           address to listen on (default 127.0.0.1; beyond loopback needs a token pair)
          --state-dir DIR          database, images, volumes (default $TYPEDSANDBOX_STATE_DIR or /var/lib/typedsandbox)
          --runtime crun|runsc     OCI runtime isolating sandboxes (default crun; runsc = gVisor)
          --sandbox-disk-mib N     size limit of a sandbox's writable layer when it asks for none (default 4096)
          --volume-disk-mib N      size limit of each volume (default 4096)
          --registry-mirror URL    mirror tried first for Docker Hub images; repeatable
                                   (also $TYPEDSANDBOX_REGISTRY_MIRRORS, comma-separated)
          --token-id ID --token-secret SECRET
                                   credentials callers must send when listening beyond loopback
                                   (also $TYPEDSANDBOX_TOKEN_ID / $TYPEDSANDBOX_TOKEN_SECRET)
          --help                   show this text
        Named secrets: typedsandbox-server secret set NAME KEY=VALUE... [--state-dir DIR]  (also list, delete;
                       `secret --help` for details)
        """;

    /// <summary>Parses <paramref name="args"/>, reading defaults through <paramref name="environment"/>.</summary>
    public static ParsedCommandLine Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var options = new EngineOptions
        {
            StateDirectory = environment("TYPEDSANDBOX_STATE_DIR") is { Length: > 0 } state ? state : EngineOptions.DefaultStateDirectory(),
            TokenId = environment("TYPEDSANDBOX_TOKEN_ID"),
            TokenSecret = environment("TYPEDSANDBOX_TOKEN_SECRET"),
        };
        var mirrors = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "--help" or "-h")
            {
                return new ParsedCommandLine(null, ShowHelp: true, null);
            }

            if (i + 1 >= args.Count)
            {
                return Fail($"'{name}' is not a known switch or is missing its value.");
            }

            var value = args[++i];
            switch (name)
            {
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port):
                    options = options with { Port = port };
                    break;
                case "--port":
                    return Fail($"--port '{value}' is not a number.");
                case "--bind" when IPAddress.TryParse(value, out var address):
                    options = options with { BindAddress = address };
                    break;
                case "--bind":
                    return Fail($"--bind '{value}' is not an IP address.");
                case "--state-dir":
                    options = options with { StateDirectory = Path.GetFullPath(value) };
                    break;
                case "--runtime":
                    options = options with { Runtime = value };
                    break;
                case "--sandbox-disk-mib" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mib) && mib is > 0 and < 1L << 43:
                    options = options with { WritableLayerLimitBytes = mib << 20 };
                    break;
                case "--volume-disk-mib" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mib) && mib is > 0 and < 1L << 43:
                    options = options with { VolumeLimitBytes = mib << 20 };
                    break;
                case "--sandbox-disk-mib" or "--volume-disk-mib":
                    return Fail($"{name} '{value}' is not a size in MiB (a whole number from 1).");
                case "--registry-mirror":
                    mirrors.Add(value);
                    break;
                case "--token-id":
                    options = options with { TokenId = value };
                    break;
                case "--token-secret":
                    options = options with { TokenSecret = value };
                    break;
                default:
                    return Fail($"'{name}' is not a known switch.");
            }
        }

        try
        {
            options = options with
            {
                RegistryMirrors = RegistryMirror.ParseAll(
                    [.. mirrors.SelectMany(m => new[] { RegistryMirror.CommandLineSwitch, m })], environment(RegistryMirror.EnvironmentVariable)),
            };
        }
        catch (ArgumentException exception)
        {
            return Fail(exception.Message);
        }

        return options.Validate() is { } problem ? Fail(problem) : new ParsedCommandLine(options, ShowHelp: false, null);
    }

    private static ParsedCommandLine Fail(string error) => new(null, ShowHelp: false, error);
}
