using System.Diagnostics;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Tests.Isolation;

/// <summary>
/// Shared by the tests that start real sandboxes: a busybox image layer built from the host's static busybox, and
/// engine directories and a cgroup parent of their own, all removed at the end.
/// </summary>
public sealed class SandboxHost : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "tsb-iso-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Dictionary<string, IContainerRuntime> _runtimes = [];

    /// <summary>Why sandboxes cannot run here, or null when they can.</summary>
    public string? SkipReason { get; private set; }

    public string LayerDir => Path.Combine(_root, "layer");

    public string ScratchDir => Path.Combine(_root, "scratch");

    public string CgroupParent { get; } = "tsb-test-" + Guid.NewGuid().ToString("N")[..8];

    internal ContainerRuntimeOptions Options(string runtime) => new()
    {
        Runtime = runtime,
        RunDirectory = Path.Combine("/run", CgroupParent),
        StateDirectory = Path.Combine(_root, "state"),
        CgroupParent = CgroupParent,
    };

    internal IContainerRuntime Runtime(string name = "crun")
    {
        lock (_runtimes)
        {
            if (!_runtimes.TryGetValue(name, out var runtime))
            {
                _runtimes[name] = runtime = ContainerRuntimeFactory.Create(Options(name));
            }

            return runtime;
        }
    }

    /// <summary>A spec over the busybox layer with small, safe limits.</summary>
    internal ContainerSpec Spec(ResourceLimits? limits = null, NetworkPolicy? network = null, ProcessSpec? entrypoint = null) => new()
    {
        Id = ContainerSpec.NewId(),
        LayerDirs = [LayerDir],
        Limits = limits ?? new ResourceLimits(256L << 20, 1000, 256),
        Network = network ?? NetworkPolicy.Blocked,
        Entrypoint = entrypoint,
        ImageEnv = new Dictionary<string, string> { ["PATH"] = "/bin" },
    };

    public async Task InitializeAsync()
    {
        if (!OperatingSystem.IsLinux()) { SkipReason = "sandboxes need Linux"; return; }
        if (Environment.UserName != "root") { SkipReason = "sandboxes need root (namespaces, cgroups, mounts)"; return; }
        if (!File.Exists("/bin/busybox")) { SkipReason = "no /bin/busybox to build the test image from (apt-get install busybox-static)"; return; }

        foreach (var dir in new[] { "bin", "etc", "proc", "sys", "dev", "tmp", "root" })
        {
            Directory.CreateDirectory(Path.Combine(LayerDir, dir));
        }

        Directory.CreateDirectory(ScratchDir);
        File.Copy("/bin/busybox", Path.Combine(LayerDir, "bin", "busybox"));
        using (var install = Process.Start("chroot", [LayerDir, "/bin/busybox", "--install", "-s", "/bin"]))
        {
            await install.WaitForExitAsync();
        }

        await File.WriteAllTextAsync(Path.Combine(LayerDir, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        await File.WriteAllTextAsync(Path.Combine(LayerDir, "etc", "group"), "root:x:0:\n");
    }

    public async Task DisposeAsync()
    {
        foreach (var runtime in _runtimes.Values.OfType<IAsyncDisposable>())
        {
            await runtime.DisposeAsync();
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        var run = Path.Combine("/run", CgroupParent);
        if (Directory.Exists(run))
        {
            Directory.Delete(run, recursive: true);
        }

        foreach (var controller in Directory.Exists("/sys/fs/cgroup") ? Directory.GetDirectories("/sys/fs/cgroup") : [])
        {
            var parent = Path.Combine(controller, CgroupParent);
            if (Directory.Exists(parent))
            {
                Directory.Delete(parent);
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SandboxTests : ICollectionFixture<SandboxHost>
{
    public const string Name = "sandboxes";
}

/// <summary>Helpers for running a command in a sandbox and collecting everything.</summary>
internal static class Run
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public sealed record Result(ProcessExit Exit, byte[] Stdout, byte[] Stderr)
    {
        public string Out => System.Text.Encoding.UTF8.GetString(Stdout);
        public string Err => System.Text.Encoding.UTF8.GetString(Stderr);
    }

    public static async Task<Result> CollectAsync(SupervisedProcess process)
    {
        using var cts = new CancellationTokenSource(Patience);
        var stdout = process.Stdout.ReadToEndAsync(0, cts.Token);
        var stderr = process.Stderr.ReadToEndAsync(0, cts.Token);
        var exit = await process.Completion.WaitAsync(cts.Token);
        return new Result(exit, await stdout, await stderr);
    }

    public static async Task<Result> ExecAsync(IRunningContainer sandbox, params string[] args)
    {
        using var cts = new CancellationTokenSource(Patience);
        await using var process = await sandbox.ExecAsync(new ProcessSpec(args), cts.Token);
        return await CollectAsync(process);
    }

    public static async Task<Result> ShAsync(IRunningContainer sandbox, string script) => await ExecAsync(sandbox, "sh", "-c", script);
}
