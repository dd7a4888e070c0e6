using System.Threading;
using System.Threading.Tasks;
using TypedSandbox;

namespace Demo.Tools;

[Sandbox(
    App = "tools",
    Name = "builder-1",
    Timeout = "1h30m",
    IdleTimeout = "10m",
    Workdir = "/work",
    Cpu = 1.5,
    MemoryMb = 2048,
    CidrAllowlist = new[] { "10.0.0.0/8" },
    EncryptedPorts = new[] { 8080 },
    Verbose = true)]
[SandboxImage(
    "ghcr.io/example/builder:1.2",
    Env = new[] { "PIP_NO_CACHE_DIR=1", "LANG=C.UTF-8" },
    AptInstall = new[] { "git", "curl" },
    PipInstall = new[] { "pytest==8.3.0" },
    RunCommands = new[] { "mkdir -p /work" },
    Workdir = "/work")]
[Volume("/cache", "pip-cache", ReadOnly = true)]
[Volume("/data", "datasets")]
[Secret("github-token")]
[Secret("pypi")]
[SecretFromEnvironment("OPENAI_API_KEY", "HF_TOKEN", Required = false)]
[Tag("team", "ml")]
[Tag("purpose", "ci \"nightly\"")]
[Entrypoint("sleep", "infinity")]
public sealed partial class Builder
{
    /// <summary>Builds one target.</summary>
    [Command("make", "-C", "{dir}", "TARGET={target}", "-j{jobs}", Timeout = "20m", Workdir = "/build/src")]
    public partial Task<ExecResult> BuildAsync(string dir, string target, int jobs, CancellationToken cancellationToken);

    [Command("tail", "-f", "{file}")]
    public partial Task<ContainerProcess> FollowAsync(string file);

    [Command("test", "-e", "{class}")]
    internal partial Task<int> ExistsAsync(string @class);

    [Command("true")]
    private partial Task<int> PingAsync();

    [Command("echo", "{{literal}}", "{value}")]
    public partial Task<ExecResult> EchoAsync(string? value, CancellationToken token = default);

    [Command("sleep", "{seconds}{unit}")]
    public partial Task<int> SleepAsync(int seconds = 5, string unit = "s");
}

public static class Usage
{
    public static async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await using var builder = await Builder.FromNameAsync();
        var build = await builder.BuildAsync("src", "all", 4, cancellationToken);
        var process = await builder.FollowAsync("/var/log/build.log");
        var echoed = await Builder.CreateAsync().EchoAsync("hi");
        await foreach (var running in Builder.ListAsync(cancellationToken: cancellationToken))
        {
            await running.DisposeAsync();
        }

        return build.ExitCode + echoed.ExitCode + await Builder.CreateAsync().SleepAsync() + (process is null ? 1 : 0);
    }
}
