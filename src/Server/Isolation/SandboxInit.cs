using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// The lifetime of a sandbox's init (the agent): either the foreground runtime process that is its parent (runc, runsc
/// subcontainers), or, for a detached container, the init itself through a process descriptor (crun; runsc: its sandbox
/// process, the Sentry, which runs the init and ends with the sandbox). A detached init's exit
/// status is not available (only its parent may wait for it): <see cref="ExitCode"/> is null then.
/// </summary>
internal sealed class SandboxInit : IDisposable
{
    private const int SigKill = 9;
    private readonly HostProcess? _runtime;
    private readonly Task _exited;
    private readonly int _pidfd = -1;
    private readonly ulong _token;
    private int _closed;

    private SandboxInit(HostProcess runtime)
    {
        _runtime = runtime;
        _exited = runtime.Exited;
    }

    private SandboxInit(int pid, int pidfd)
    {
        Pid = pid;
        _pidfd = pidfd;
        (_exited, _token) = pidfd < 0 ? (Task.CompletedTask, 0UL) : PidfdWatcher.Watch(pidfd);
    }

    /// <summary>The init's host pid for a detached container (runsc: the Sentry's); null while it is the runtime's child.</summary>
    public int? Pid { get; }

    /// <summary>Completes when the init exited (the foreground runtime: when the runtime exited, after its init).</summary>
    public Task Exited => _exited;

    public bool HasExited => _exited.IsCompleted;

    /// <summary>The foreground runtime's exit code (128 + signal for a killed init); null for a detached init.</summary>
    public int? ExitCode => _runtime is { HasExited: true } runtime ? runtime.ExitCode : null;

    /// <summary>An init whose parent is the foreground <paramref name="runtime"/>.</summary>
    public static SandboxInit Foreground(HostProcess runtime) => new(runtime);

    /// <summary>
    /// The detached init <paramref name="pid"/> of the container in <paramref name="cgroupsPath"/>. Checked against
    /// its cgroup after the descriptor is open: a pid already reused by another process counts as exited.
    /// </summary>
    public static SandboxInit Detached(int pid, string cgroupsPath)
    {
        var pidfd = LinuxNative.PidfdOpen(pid);
        if (pidfd >= 0 && !InCgroup(pid, cgroupsPath))
        {
            LinuxNative.Close(pidfd);
            pidfd = -1;
        }
        return new SandboxInit(pid, pidfd);
    }

    /// <summary>Waits for the exit, at most <paramref name="patience"/>; false when it still runs.</summary>
    public async Task<bool> WaitAsync(TimeSpan patience)
    {
        using var grace = new CancellationTokenSource(patience);
        try
        {
            await _exited.WaitAsync(grace.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL: to the detached init through its descriptor, else to the runtime's process tree.</summary>
    public void Kill()
    {
        if (_runtime is not null)
        {
            _runtime.Kill();
        }
        else if (_pidfd >= 0 && Volatile.Read(ref _closed) == 0)
        {
            LinuxNative.PidfdSendSignal(_pidfd, SigKill);
        }
    }

    public void Dispose()
    {
        if (_pidfd >= 0 && Interlocked.Exchange(ref _closed, 1) == 0)
        {
            PidfdWatcher.Forget(_pidfd, _token);
            LinuxNative.Close(_pidfd);
        }
    }

    private static bool InCgroup(int pid, string cgroupsPath)
    {
        try
        {
            // One line per hierarchy ("4:memory:/typedsandbox/<id>", v2: "0::/typedsandbox/<id>").
            return File.ReadLines($"/proc/{pid}/cgroup").Any(line => line.EndsWith(":" + cgroupsPath, StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }
}
