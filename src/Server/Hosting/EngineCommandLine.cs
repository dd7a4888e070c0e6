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
    public static string Usage { get; } = """
        Usage: typedsandbox-server [options]
          --port N                 TCP port on the bind address (default 8765; 0 = any free port)
          --oidc-port N            loopback port of the sandbox identity tokens' OIDC issuer (discovery document
                                   and keys over plain HTTP; default 0 = any free port, logged at start)
          --bind ADDRESS           address to listen on (default 127.0.0.1; beyond loopback needs --tls-cert/--tls-key)
          --state-dir DIR          database, images, volumes (default $TYPEDSANDBOX_STATE_DIR or /var/lib/typedsandbox)
          --runtime crun|runsc     OCI runtime isolating sandboxes (default crun; runsc = gVisor)
          --sandbox-disk-mib N     size limit of a sandbox's writable layer when it asks for none (default 4096)
          --volume-disk-mib N      size limit of each volume (default 4096)
          --build-disk-mib N       size limit of what one image build's RUN step writes (default 4096)
          --registry-mirror URL    mirror tried first for Docker Hub images; repeatable
                                   (also $TYPEDSANDBOX_REGISTRY_MIRRORS, comma-separated)
          --token-file FILE        the token pair every caller must send (lines token_id = "..." and
                                   token_secret = "..."); also $TYPEDSANDBOX_TOKEN_ID / $TYPEDSANDBOX_TOKEN_SECRET.
                                   Default: a pair generated at the first start and kept in the state directory.
                                   Either way the engine writes <state-dir>/modal.toml (0600) for clients:
                                   MODAL_CONFIG_PATH=<state-dir>/modal.toml
          --tls-cert FILE --tls-key FILE
                                   serve TLS with this PEM certificate and key (required beyond loopback)
          --registry-allow-network CIDR
                                   loopback/private network registries, their redirects and token
                                   services may reach besides each registry's own host:port; repeatable
          --closed-network CIDR    an IPv4 network no open sandbox reaches, whatever its allow-list (the host's
                                   own addresses and cloud metadata services always are); repeatable, e.g.
                                   --closed-network 10.0.0.0/8 keeps sandboxes off a private network
          --output-memory-kib N    unread output of one stream kept in memory (default 256)
          --output-disk-mib N      unread output of one stream spilled to disk past that (default 64); a process
                                   whose output is not read blocks on write at this bound, nothing is dropped
          --output-spill-budget-mib N
                                   all spill files together (default 1024)
          --sandboxes-pids N       processes and threads all sandboxes may hold together (default: three
                                   quarters of the host's kernel.pid_max)
          --sandboxes-memory-mib N memory all sandboxes may use together (default: the host's memory less an
                                   eighth, at least 1 GiB less)
          --warm-pool N            sandboxes kept started ahead per shape (image, limits, network) a create
                                   claims at once (default 0 = off; at most 64; within half the host's memory)
          --keep-sandboxes SECONDS on stop, running sandboxes wait this long for the next engine on the same
                                   state directory, which adopts them (default 0 = they end with the engine;
                                   crun or runsc; no sidecars or egress proxy; a killed engine still ends
                                   them)
          --help                   show this text
        Named secrets: typedsandbox-server secret set NAME KEY=VALUE... [--state-dir DIR]  (also list, delete;
                       `secret --help` for details)
        """;

    /// <summary>An IPv4 network in CIDR form whose address has no bit set past its prefix (10.0.0.0/8, not 10.0.0.1/8); else null.</summary>
    private static IPNetwork? ParseIPv4Network(string value)
    {
        if (!IPNetwork.TryParse(value, out var network) || network.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return null;
        }

        // IPNetwork.TryParse clears the bits past the prefix: a written address that differs meant something else.
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && IPAddress.TryParse(value.AsSpan(0, slash), out var written) && written.Equals(network.BaseAddress) ? network : null;
    }

    /// <summary>Parses <paramref name="args"/>, reading defaults through <paramref name="environment"/>.</summary>
    public static ParsedCommandLine Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var options = new EngineOptions
        {
            StateDirectory = environment("TYPEDSANDBOX_STATE_DIR") is { Length: > 0 } state ? state : EngineOptions.DefaultStateDirectory(),
            TokenId = environment("TYPEDSANDBOX_TOKEN_ID") is { Length: > 0 } id ? id : null,
            TokenSecret = environment("TYPEDSANDBOX_TOKEN_SECRET") is { Length: > 0 } secret ? secret : null,
        };
        var mirrors = new List<string>();
        var allowedNetworks = new List<IPNetwork>();
        var closedNetworks = new List<IPNetwork>();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "--help" or "-h")
            {
                return new ParsedCommandLine(null, ShowHelp: true, null);
            }

            if (name is "--token-secret" or "--token-id")
            {
                // A secret on a command line is visible to every local account in ps and /proc/*/cmdline.
                return Fail($"'{name}' was removed: a token on the command line is visible to every local account. " +
                    "Use --token-file FILE (lines token_id = \"...\" and token_secret = \"...\") or $TYPEDSANDBOX_TOKEN_ID and $TYPEDSANDBOX_TOKEN_SECRET.");
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
                case "--oidc-port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var oidcPort) && oidcPort <= 65535:
                    options = options with { OidcPort = oidcPort };
                    break;
                case "--oidc-port":
                    return Fail($"--oidc-port '{value}' is not a port number (0-65535).");
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
                case "--build-disk-mib" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mib) && mib is > 0 and < 1L << 43:
                    options = options with { BuildStepLimitBytes = mib << 20 };
                    break;
                case "--sandbox-disk-mib" or "--volume-disk-mib" or "--build-disk-mib":
                    return Fail($"{name} '{value}' is not a size in MiB (a whole number from 1).");
                case "--sandboxes-pids" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var pids) && pids < 1L << 32:
                    options = options with { SandboxPidsTotal = pids };
                    break;
                case "--sandboxes-pids":
                    return Fail($"--sandboxes-pids '{value}' is not a number of tasks.");
                case "--sandboxes-memory-mib" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mib) && mib < 1L << 43:
                    options = options with { SandboxMemoryTotalBytes = mib << 20 };
                    break;
                case "--sandboxes-memory-mib":
                    return Fail($"--sandboxes-memory-mib '{value}' is not a size in MiB.");
                case "--warm-pool" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var pool):
                    options = options with { WarmPoolSize = pool };
                    break;
                case "--warm-pool":
                    return Fail($"--warm-pool '{value}' is not a number of sandboxes (0-{EngineOptions.MaxWarmPoolSize}).");
                case "--keep-sandboxes" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                    && seconds <= EngineOptions.MaxKeepSandboxesSeconds:
                    options = options with { KeepSandboxes = TimeSpan.FromSeconds(seconds) };
                    break;
                case "--keep-sandboxes":
                    return Fail($"--keep-sandboxes '{value}' is not a number of seconds (0-{EngineOptions.MaxKeepSandboxesSeconds}).");
                case "--registry-mirror":
                    mirrors.Add(value);
                    break;
                case "--token-file":
                    options = options with { TokenFile = Path.GetFullPath(value) };
                    break;
                case "--output-memory-kib" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var kib) && kib <= int.MaxValue / 1024:
                    options = options with { ExecOutput = options.ExecOutput with { MemoryBytes = kib * 1024 } };
                    break;
                case "--output-disk-mib" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mib):
                    options = options with { ExecOutput = options.ExecOutput with { DiskBytes = mib * 1024 * 1024 } };
                    break;
                case "--output-spill-budget-mib" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var budget):
                    options = options with { ExecOutput = options.ExecOutput with { SpillBudgetBytes = budget * 1024 * 1024 } };
                    break;
                case "--output-memory-kib" or "--output-disk-mib" or "--output-spill-budget-mib":
                    return Fail($"{name} '{value}' is not a number.");
                case RegistryAddressPolicy.CommandLineSwitch:
                    try
                    {
                        allowedNetworks.Add(RegistryAddressPolicy.ParseNetwork(value));
                    }
                    catch (ArgumentException exception)
                    {
                        return Fail(exception.Message);
                    }

                    break;
                case "--closed-network":
                    if (ParseIPv4Network(value) is not { } closedNetwork)
                    {
                        return Fail($"--closed-network '{value}' is not an IPv4 network in CIDR form (like 10.0.0.0/8; sandboxes have no IPv6).");
                    }

                    closedNetworks.Add(closedNetwork);
                    break;
                case "--tls-cert":
                    options = options with { TlsCertificatePath = Path.GetFullPath(value) };
                    break;
                case "--tls-key":
                    options = options with { TlsKeyPath = Path.GetFullPath(value) };
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
                RegistryAllowedNetworks = allowedNetworks,
                SandboxClosedNetworks = closedNetworks,
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
