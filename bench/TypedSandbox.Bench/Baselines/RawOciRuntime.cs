using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Bench.Baselines;

/// <summary>
/// The peer the engine is measured against: the same OCI runtime driven by hand, with nothing in between. Each
/// container gets the engine's image layers as overlayfs lower dirs, a private upper dir, and a minimal config.json
/// (pid/ipc/uts/mount/network namespaces, Docker's default capabilities, no seccomp profile, memory and pids limits).
/// <see cref="WithSandboxIsolationAsync"/> makes further peers (crun only) that run the engine's own config.json instead,
/// user namespace, seccomp filter, device rules and masks included, with <c>echo</c> in place of the agent.
/// Every container, mount, bundle and cgroup it creates is removed on dispose, also after a failure.
/// </summary>
internal sealed class RawOciRuntime : IAsyncDisposable
{
    private const long MemoryLimitBytes = 256L * 1024 * 1024;
    private const int PidsLimit = 512;
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private static readonly string[] Capabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    private static readonly string[] Namespaces = ["pid", "ipc", "uts", "mount", "network"];

    private readonly string _runtime;
    private readonly string _stateRoot;
    private readonly string _bundles;
    private readonly string _cgroupParent;
    private readonly ImageRecord _image;
    // Set for a peer with the sandbox's isolation: the id range its user namespace maps onto.
    private readonly SandboxIdRange? _ids;
    // The seccomp filter such a peer hands over compiled (crun's annotation, as the engine does); null: the OCI profile.
    private string? _compiledSeccomp;
    // Guarded by itself: the burst measurement starts containers from many tasks at once.
    private readonly HashSet<string> _containers = [];
    private int _next;

    public RawOciRuntime(string runtime, string workDirectory, ImageRecord image)
    {
        _runtime = runtime;
        _image = image;
        var tag = string.Create(CultureInfo.InvariantCulture, $"tsb-bench-{Environment.ProcessId}");
        _stateRoot = Path.Combine("/run", tag);
        _bundles = Path.Combine(workDirectory, "raw-bundles");
        _cgroupParent = tag;
        Directory.CreateDirectory(_stateRoot);
        Directory.CreateDirectory(_bundles);
    }

    private RawOciRuntime(string runtime, ImageRecord image, SandboxIdRange ids, string name)
    {
        _runtime = runtime;
        _image = image;
        _ids = ids;
        var tag = string.Create(CultureInfo.InvariantCulture, $"tsb-bench-{Environment.ProcessId}-{name}");
        _stateRoot = Path.Combine("/run", tag);
        // Root inside the user namespace is an unprivileged host id: it must be able to walk to its bundle, as the
        // engine's bundles under /run allow (the bench's work directory is in the engine's root-only state directory).
        _bundles = _stateRoot + "-bundles";
        _cgroupParent = tag;
        Directory.CreateDirectory(_stateRoot);
        Directory.CreateDirectory(_bundles);
        NativeFileSystem.Chmod(_bundles, 0b111_001_001);
    }

    /// <summary>
    /// A peer (crun only) that runs the engine's own config.json (<see cref="OciConfig"/>): the user namespace mapped
    /// onto <paramref name="ids"/>, the seccomp filter, the device rules, masked and read-only paths, the engine's mounts
    /// and default limits, and new user and network namespaces of its own. With <paramref name="compiledFilter"/> the
    /// filter goes to crun compiled, as the engine hands it over (crun's <c>run.oci.seccomp_bpf_data</c>); without, as
    /// the OCI profile Docker and Podman hand over, which crun compiles at every run. Left out: the agent and its
    /// mount, the network made ahead.
    /// </summary>
    /// <exception cref="InvalidOperationException">crun could not compile the filter.</exception>
    public async Task<RawOciRuntime> WithSandboxIsolationAsync(SandboxIdRange ids, bool compiledFilter, CancellationToken cancellationToken)
    {
        var peer = new RawOciRuntime(_runtime, _image, ids, compiledFilter ? "compiled" : "profile");
        if (compiledFilter)
        {
            peer._compiledSeccomp = await CompiledSeccompFilter.CompileAsync(_runtime, peer._stateRoot, peer._bundles, peer._cgroupParent,
                SeccompProfile.Build(RuntimeFlavor.Crun), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancellationToken);
            if (peer._compiledSeccomp is null)
            {
                await peer.DisposeAsync();
                throw new InvalidOperationException($"{_runtime} could not compile the sandbox's seccomp filter.");
            }
        }

        return peer;
    }

    /// <summary>The runtime's version line, for the report.</summary>
    public static async Task<string> VersionAsync(string runtime)
    {
        var result = await TimedCommand.RunAsync(runtime, ["--version"], CommandTimeout, CancellationToken.None);
        return result.StdoutText.Split('\n')[0].Trim();
    }

    /// <summary>The cgroup (relative to each hierarchy's root) holding every container of this run.</summary>
    public string CgroupParentPath => "/" + _cgroupParent;

    private bool IsRunsc => _runtime.EndsWith("runsc", StringComparison.Ordinal);

    private string[] GlobalArgs => IsRunsc ? ["--root", _stateRoot, "--network=none"] : ["--root", _stateRoot];

    /// <summary>
    /// The cold path a user of the bare runtime pays, timed: bundle directories, the overlay mount, config.json and a
    /// foreground <c>run</c> of <c>echo hi</c>, until "hi" has been read from the container's stdout.
    /// </summary>
    public async Task<TimeSpan> RunEchoAsync(CancellationToken cancellationToken)
    {
        var id = NextId();
        var started = Stopwatch.GetTimestamp();
        var bundle = PrepareBundle(id, ["echo", "hi"]);
        var prepared = Stopwatch.GetElapsedTime(started);
        try
        {
            var result = await TimedCommand.RunAsync(_runtime, [.. GlobalArgs, "run", "--bundle", bundle, id], CommandTimeout, cancellationToken);
            result.EnsureSuccess($"{_runtime} run");
            if (result.StdoutText != "hi\n" || result.FirstOutput is not { } firstOutput)
            {
                throw new InvalidOperationException($"{_runtime} run printed '{result.StdoutText}' instead of 'hi'.");
            }

            return prepared + firstOutput;
        }
        finally
        {
            await RemoveAsync(id);
        }
    }

    /// <summary>Starts a detached container running <c>sleep</c>; returns its id.</summary>
    public async Task<string> StartIdleAsync(CancellationToken cancellationToken)
    {
        var id = NextId();
        var bundle = PrepareBundle(id, ["sleep", "1000000"]);
        // The container inherits the runtime's stdio: give it /dev/null, never a pipe this process would wait on.
        var errors = Path.Combine(bundle, "runtime.err");
        var detach = IsRunsc ? "-detach" : "-d";
        string[] argv = [_runtime, .. GlobalArgs, "run", detach, "--bundle", bundle, id];
        var command = string.Join(' ', argv.Select(Quote));
        var result = await TimedCommand.RunAsync("/bin/sh", ["-c", $"exec {command} </dev/null >/dev/null 2>{Quote(errors)}"], CommandTimeout, cancellationToken);
        if (result.ExitCode != 0)
        {
            var message = File.Exists(errors) ? await File.ReadAllTextAsync(errors, cancellationToken) : result.Stderr;
            await RemoveAsync(id);
            throw new InvalidOperationException($"{_runtime} run -d exited with {result.ExitCode}: {message.Trim()}");
        }

        return id;
    }

    /// <summary>Runs a command in a running container through the runtime's own exec path.</summary>
    public Task<CommandResult> ExecAsync(string id, IReadOnlyList<string> command, CancellationToken cancellationToken, Action<ReadOnlyMemory<byte>>? onOutput = null) =>
        TimedCommand.RunAsync(_runtime, [.. GlobalArgs, "exec", id, .. command], CommandTimeout, cancellationToken, onOutput);

    /// <summary>Kills and deletes a container, unmounts its rootfs and removes its bundle and cgroup.</summary>
    public async Task RemoveAsync(string id)
    {
        // A foreground run deletes its container on exit; asking again only reports that it is gone.
        string[] delete = IsRunsc ? ["delete", "-force", id] : ["delete", "-f", id];
        var result = await TimedCommand.RunAsync(_runtime, [.. GlobalArgs, .. delete], CommandTimeout, CancellationToken.None);
        if (result.ExitCode != 0 && !IsGone(result.Stderr))
        {
            await Console.Error.WriteLineAsync($"bench: {_runtime} delete {id}: {result.Stderr.Trim()}");
        }

        var bundle = Path.Combine(_bundles, id);
        LinuxMount.Detach(Path.Combine(bundle, "rootfs"));
        if (Directory.Exists(bundle))
        {
            Directory.Delete(bundle, recursive: true);
        }

        RemoveCgroups(id);
        lock (_containers)
        {
            _containers.Remove(id);
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<string> left;
        lock (_containers)
        {
            left = [.. _containers];
        }

        foreach (var id in left)
        {
            await RemoveAsync(id);
        }

        RemoveCgroups(leaf: null);
        TryDelete(_bundles, recursive: true);
        TryDelete(_stateRoot, recursive: true);
    }

    private string NextId()
    {
        lock (_containers)
        {
            var id = string.Create(CultureInfo.InvariantCulture, $"{_cgroupParent}-{++_next:D5}");
            _containers.Add(id);
            return id;
        }
    }

    private string PrepareBundle(string id, IReadOnlyList<string> args)
    {
        var bundle = Path.Combine(_bundles, id);
        var rootfs = Path.Combine(bundle, "rootfs");
        var upper = Path.Combine(bundle, "upper");
        var work = Path.Combine(bundle, "work");
        Directory.CreateDirectory(rootfs);
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);
        if (_ids is { } ids)
        {
            // As the engine prepares a bundle: root inside may walk into it and owns the writable layer.
            NativeFileSystem.LChown(bundle, 0, ids.HostId);
            NativeFileSystem.Chmod(bundle, 0b111_001_000);
            NativeFileSystem.LChown(upper, ids.HostId, ids.HostId);
            NativeFileSystem.Chmod(upper, 0b111_101_101);
        }

        LinuxMount.Overlay(_image.LayerDirs, upper, work, rootfs);
        var config = _ids is { } range ? IsolatedConfig(id, bundle, range, args) : Config(id, args);
        File.WriteAllText(Path.Combine(bundle, "config.json"), config.ToJsonString());
        return bundle;
    }

    /// <summary>The engine's config.json for a sandbox of the default shape, running <paramref name="args"/>.</summary>
    private JsonObject IsolatedConfig(string id, string bundle, SandboxIdRange ids, IReadOnlyList<string> args)
    {
        var etc = Path.Combine(bundle, "etc");
        Directory.CreateDirectory(etc);
        File.WriteAllText(Path.Combine(etc, "hosts"), "127.0.0.1\tlocalhost\n");
        File.WriteAllText(Path.Combine(etc, "hostname"), "bench\n");
        File.WriteAllText(Path.Combine(etc, "resolv.conf"), "nameserver 10.0.2.3\n");
        var spec = new ContainerSpec { Id = id, LayerDirs = _image.LayerDirs, Hostname = "bench" };
        var config = OciConfig.Build(new OciConfig.Inputs(spec, RuntimeFlavor.Crun, Path.Combine(bundle, "rootfs"), "/nonexistent-agent",
            etc, $"/{_cgroupParent}/{id}", NetworkNamespacePath: null, ids, _compiledSeccomp));
        var process = config["process"]!.AsObject();
        process["args"] = Strings(args);
        process["env"] = Strings(_image.Config.Env.Count > 0 ? _image.Config.Env : ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
        var mounts = config["mounts"]!.AsArray();
        var agent = mounts.Single(m => (string?)m!["destination"] == OciConfig.AgentMountPoint);
        mounts.Remove(agent);
        return config;
    }

    private JsonObject Config(string id, IReadOnlyList<string> args)
    {
        var env = _image.Config.Env.Count > 0 ? _image.Config.Env : ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];
        var mounts = new JsonArray
        {
            Mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
            Mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
            Mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
            Mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
            Mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
            Mount("/tmp", "tmpfs", "tmpfs", "nosuid", "nodev", "mode=1777"),
        };
        return new JsonObject
        {
            ["ociVersion"] = "1.0.2",
            ["process"] = new JsonObject
            {
                ["terminal"] = false,
                ["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 },
                ["args"] = Strings(args),
                ["env"] = Strings(env),
                ["cwd"] = _image.Config.WorkingDir is { Length: > 0 } cwd ? cwd : "/",
                ["capabilities"] = new JsonObject
                {
                    ["bounding"] = Strings(Capabilities),
                    ["effective"] = Strings(Capabilities),
                    ["permitted"] = Strings(Capabilities),
                },
                ["noNewPrivileges"] = true,
            },
            ["root"] = new JsonObject { ["path"] = "rootfs", ["readonly"] = false },
            ["hostname"] = "bench",
            ["mounts"] = mounts,
            ["linux"] = new JsonObject
            {
                ["namespaces"] = new JsonArray([.. Namespaces.Select(n => (JsonNode)new JsonObject { ["type"] = n })]),
                ["resources"] = new JsonObject
                {
                    ["memory"] = new JsonObject { ["limit"] = MemoryLimitBytes },
                    // runsc's own host threads count against pids: the engine's headroom, or 100 concurrent execs fail.
                    ["pids"] = new JsonObject { ["limit"] = PidsLimit + (Path.GetFileName(_runtime) == "runsc" ? TypedSandbox.Server.Isolation.OciConfig.RunscPidsHeadroom : 0) },
                },
                ["cgroupsPath"] = $"/{_cgroupParent}/{id}",
                ["maskedPaths"] = Strings(["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/sys/firmware"]),
                ["readonlyPaths"] = Strings(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]),
            },
        };
    }

    /// <summary>Removes this run's cgroup directories (one container's, or with a null leaf everything under the parent).</summary>
    private void RemoveCgroups(string? leaf)
    {
        if (!Directory.Exists("/sys/fs/cgroup"))
        {
            return;
        }

        foreach (var hierarchy in Directory.EnumerateDirectories("/sys/fs/cgroup"))
        {
            var parent = Path.Combine(hierarchy, _cgroupParent);
            if (!Directory.Exists(parent) || new DirectoryInfo(hierarchy).LinkTarget is not null)
            {
                continue;
            }

            var leaves = leaf is null ? Directory.EnumerateDirectories(parent).ToList() : [Path.Combine(parent, leaf)];
            foreach (var dir in leaves.Where(Directory.Exists))
            {
                TryDelete(dir, recursive: false); // rmdir: a cgroup directory goes away with its control files
            }

            if (leaf is null)
            {
                TryDelete(parent, recursive: false);
            }
        }
    }

    private static void TryDelete(string path, bool recursive)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"bench: could not remove {path}: {e.Message}");
        }
    }

    private static JsonObject Mount(string destination, string type, string source, params string[] options) => new()
    {
        ["destination"] = destination,
        ["type"] = type,
        ["source"] = source,
        ["options"] = Strings(options),
    };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    private static bool IsGone(string stderr) =>
        stderr.Contains("not exist", StringComparison.OrdinalIgnoreCase) || stderr.Contains("not found", StringComparison.OrdinalIgnoreCase);

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
