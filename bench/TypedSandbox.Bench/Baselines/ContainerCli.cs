using TypedSandbox.Bench.Harness;

namespace TypedSandbox.Bench.Baselines;

/// <summary>
/// docker or podman, when installed and working, as the "what people use today" peer: the same image pulled from the
/// same loopback registry, <c>run --rm … echo hi</c> and <c>exec … true</c>, with the same limits as the raw baseline.
/// </summary>
internal sealed class ContainerCli
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private readonly string[] _global;
    private readonly string[] _pull;
    private readonly string[] _run;

    private ContainerCli(string name, string[] global, string[] pull, string[] run)
    {
        Name = name;
        _global = global;
        _pull = pull;
        _run = run;
    }

    public string Name { get; }

    /// <summary>What <see cref="FindAsync"/> says of an installed CLI whose daemon does not answer.</summary>
    public const string NoDaemon = "CLI installed, no daemon running";

    /// <summary>
    /// Finds a usable CLI; otherwise returns null and why ("not installed", <see cref="NoDaemon"/>, …).
    /// <paramref name="hostArguments"/> point docker's CLI at a daemon of the bench's own (<see cref="PrivateDockerDaemon"/>).
    /// </summary>
    public static async Task<(ContainerCli? Cli, string Reason)> FindAsync(string name, CancellationToken cancellationToken, string[]? hostArguments = null)
    {
        if (!OnPath(name))
        {
            return (null, "not installed");
        }

        ContainerCli cli = name == "podman"
            // No systemd on such hosts, and without CAP_SYS_RESOURCE the default rlimits cannot be set.
            ? new(name, ["--cgroup-manager=cgroupfs", "--events-backend=file"], ["--tls-verify=false"],
                ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"])
            : new(name, hostArguments ?? [], [], []);
        var info = await TimedCommand.RunAsync(name, [.. cli._global, "info"], CommandTimeout, cancellationToken);
        if (info.ExitCode != 0)
        {
            var reason = info.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "info failed";
            return (null, reason.Contains("Cannot connect", StringComparison.Ordinal)
                ? NoDaemon
                : $"installed, not usable: {(reason.Length > 80 ? reason[..80] + "…" : reason)}");
        }

        return (cli, "");
    }

    /// <summary>Pulls the image from the loopback registry (127.0.0.0/8 registries are plain HTTP to docker).</summary>
    public async Task<string> PullAsync(Uri registry, string repository, CancellationToken cancellationToken)
    {
        var image = $"{registry.Authority}/{repository}";
        await Run(["pull", .. _pull, image], "pull", cancellationToken);
        return image;
    }

    /// <summary><c>run --rm IMAGE echo hi</c>, timed until "hi" is read.</summary>
    public async Task<TimeSpan> RunEchoAsync(string image, CancellationToken cancellationToken)
    {
        var result = await Run(["run", "--rm", .. Limits, image, "echo", "hi"], "run", cancellationToken);
        return result.FirstOutput ?? throw new InvalidOperationException($"{Name} run printed nothing.");
    }

    /// <summary>Starts a detached idle container; returns its id.</summary>
    public async Task<string> StartIdleAsync(string image, CancellationToken cancellationToken)
    {
        var result = await Run(["run", "-d", .. Limits, image, "sleep", "1000000"], "run -d", cancellationToken);
        return result.StdoutText.Trim();
    }

    public async Task<TimeSpan> ExecTrueAsync(string id, CancellationToken cancellationToken) =>
        (await Run(["exec", id, "true"], "exec", cancellationToken)).Elapsed;

    public Task RemoveAsync(string id) => Run(["rm", "-f", id], "rm -f", CancellationToken.None);

    private string[] Limits => ["--network=none", "--memory", "256m", "--pids-limit", "512", .. _run];

    private async Task<CommandResult> Run(string[] args, string what, CancellationToken cancellationToken) =>
        (await TimedCommand.RunAsync(Name, [.. _global, .. args], CommandTimeout, cancellationToken)).EnsureSuccess($"{Name} {what}");

    /// <summary>True when an executable of that name is in a directory of PATH.</summary>
    public static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, name)));
}
