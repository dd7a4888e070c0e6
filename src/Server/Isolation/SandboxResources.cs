using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Everything one sandbox holds on the host (bundle directory, overlay mount, network, its init and runtime process, cgroups),
/// released in reverse order by <see cref="CleanupAsync"/>, which is idempotent and never throws.
/// </summary>
internal sealed class SandboxResources(string id, string bundleDirectory, RuntimeFlavor flavor, string runtimeBinary,
    string runtimeRoot, string cgroupsPath, ILogger logger)
{
    private readonly Lock _gate = new();
    private Task? _cleanup;

    public string Id { get; } = id;
    public string BundleDirectory { get; } = bundleDirectory;
    public string RootfsPath => Path.Combine(BundleDirectory, "rootfs");
    public string UpperDirectory => Path.Combine(WritableDirectory ?? BundleDirectory, "upper");
    public string WorkDirectory => Path.Combine(WritableDirectory ?? BundleDirectory, "work");

    /// <summary>The size-limited directory holding the upper and work directories; null = both in the bundle.</summary>
    public string? WritableDirectory { get; init; }
    public string EtcDirectory => Path.Combine(BundleDirectory, "etc");
    public RuntimeFlavor Flavor { get; } = flavor;
    public string RuntimeBinary { get; } = runtimeBinary;
    public string RuntimeRoot { get; } = runtimeRoot;
    public string CgroupsPath { get; } = cgroupsPath;
    public bool OverlayMounted { get; set; }
    public SandboxNetwork? Network { get; set; }
    public HostProcess? RuntimeProcess { get; set; }

    /// <summary>The agent channel's pipes, by inode (to find them again among the init's descriptors for a handover); null when unknown.</summary>
    public Exec.ChannelPipes? ChannelPipes { get; set; }

    /// <summary>The sandbox's init: its end is the sandbox's end (the runtime process's, for a foreground run).</summary>
    public SandboxInit? Init { get; set; }

    /// <summary>The network namespace runsc was launched in, inside the sandbox's user namespace (<see cref="UserNamespaceLaunch"/>); null otherwise.</summary>
    public string? LaunchNetworkNamespace { get; init; }

    /// <summary>
    /// The command line for a runtime command on this sandbox. runsc launched inside the sandbox's user namespace
    /// answers only from there: its control socket is abstract (so per network namespace) and refuses callers of
    /// another user namespace. The command then runs in both, as their root.
    /// </summary>
    public (string File, IEnumerable<string> Arguments) RuntimeCommand(IEnumerable<string> arguments)
    {
        if (LaunchUserNamespace() is not { } userNamespace)
        {
            return (RuntimeBinary, arguments);
        }

        string[] enter =
        [
            "--net=" + LaunchNetworkNamespace!, "--user=" + userNamespace, "--setuid", "0", "--setgid", "0", "--", RuntimeBinary,
        ];
        return (HostCheck.FindExecutable("nsenter") ?? "nsenter", enter.Concat(arguments));
    }

    /// <summary>
    /// The user namespace runsc was launched in (<see cref="LaunchNetworkNamespace"/>), as a <c>/proc</c> path of a
    /// process that lives in it as long as the sandbox: the detached Sentry (runsc with host networking starts it in the
    /// namespace it runs in), or the foreground runtime while it runs. Null when not launched that way, or ended.
    /// </summary>
    public string? LaunchUserNamespace()
    {
        if (LaunchNetworkNamespace is null)
        {
            return null;
        }

        var pid = Init is { Pid: { } detached, HasExited: false } ? detached
            : RuntimeProcess is { HasExited: false } process ? process.Id
            : (int?)null;
        return pid is null ? null : $"/proc/{pid}/ns/user";
    }

    /// <summary>Runs a runtime command on this sandbox (see <see cref="RuntimeCommand"/>).</summary>
    public Task<HostProcessResult> RunRuntimeAsync(IEnumerable<string> arguments, CancellationToken ct)
    {
        var (file, args) = RuntimeCommand(arguments);
        return HostCommand.RunAsync(file, args, ct);
    }

    /// <summary>Asks the agent to end the sandbox (closes its channel).</summary>
    public Func<ValueTask>? StopAgent { get; set; }

    /// <summary>The memory cgroup's OOM-kill counter (v1 memory.oom_control, v2 memory.events); 0 when unavailable.</summary>
    public long ReadOomKillCount()
    {
        var file = File.Exists("/sys/fs/cgroup/cgroup.controllers")
            ? $"/sys/fs/cgroup{CgroupsPath}/memory.events"
            : $"/sys/fs/cgroup/memory{CgroupsPath}/memory.oom_control";
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith("oom_kill ", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(9), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    /// <summary>How often a fork or clone in the sandbox's cgroups was refused at the pids limit (pids.events); 0 when unavailable.</summary>
    public long ReadPidsLimitHits()
    {
        var file = File.Exists("/sys/fs/cgroup/cgroup.controllers")
            ? $"/sys/fs/cgroup{CgroupsPath}/pids.events"
            : $"/sys/fs/cgroup/pids{CgroupsPath}/pids.events";
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith("max ", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    public Task CleanupAsync()
    {
        lock (_gate)
        {
            return _cleanup ??= Task.Run(CleanupCoreAsync);
        }
    }

    private async Task CleanupCoreAsync()
    {
        if ((Init ?? (RuntimeProcess is { } process ? SandboxInit.Foreground(process) : null)) is { } init)
        {
            // Fastest first: the agent ends the sandbox when its channel closes (as PID 1 its exit kills the rest).
            if (!init.HasExited && StopAgent is { } stopAgent)
            {
                await stopAgent().ConfigureAwait(false);
                await init.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            // An agent that does not answer: the runtime kills the sandbox's init.
            if (!init.HasExited)
            {
                await Step("runtime kill", () => RunRuntimeAsync(RuntimeCommands.Kill(Flavor, RuntimeRoot, Id), CancellationToken.None)).ConfigureAwait(false);
                await init.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            // A runtime that never created the container ignores kill: end it (or the detached init) directly.
            if (!init.HasExited)
            {
                init.Kill();
            }

            await init.Exited.ConfigureAwait(false);
            init.Dispose();
        }
        // A foreground `run` deletes the container when it ends; a detached one (or a crashed runtime) leaves its state.
        if (Directory.Exists(RuntimeRoot) && Directory.EnumerateFileSystemEntries(RuntimeRoot, Id + "*").Any())
        {
            await RunRuntimeAsync(RuntimeCommands.Delete(Flavor, RuntimeRoot, Id), CancellationToken.None).ConfigureAwait(false);
        }

        if (Network is { } network)
        {
            await Step("network", async () => { await network.DisposeAsync().ConfigureAwait(false); return 0; }).ConfigureAwait(false);
        }

        if (OverlayMounted && !LinuxNative.Unmount(RootfsPath))
        {
            IsolationLog.CleanupFailed(logger, "umount " + RootfsPath, "umount2 failed");
        }

        Mounts.GvisorImageShare.Release(BundleDirectory);
        await Step("bundle", async () => { await TreeRemoval.DeleteAsync(BundleDirectory, CancellationToken.None).ConfigureAwait(false); return 0; }).ConfigureAwait(false);
        if (WritableDirectory is { } writable && Directory.Exists(writable))
        {
            await Step("writable layer", async () => { await TreeRemoval.DeleteAsync(writable, CancellationToken.None).ConfigureAwait(false); return 0; }).ConfigureAwait(false);
        }
        // v1: one hierarchy per controller; v2 (or the hybrid's unified tree): the root itself.
        foreach (var controller in Directory.Exists("/sys/fs/cgroup") ? [.. Directory.GetDirectories("/sys/fs/cgroup"), "/sys/fs/cgroup"] : Array.Empty<string>())
        {
            var leaf = controller + CgroupsPath;
            if (Directory.Exists(leaf))
            {
                await Step("rmdir " + leaf, () => { Directory.Delete(leaf); return Task.FromResult(0); }).ConfigureAwait(false);
            }
        }
    }

    private async Task Step<T>(string name, Func<Task<T>> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            IsolationLog.CleanupFailed(logger, name, e.Message);
        }
    }
}
