using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Tests.Isolation;

/// <summary>crun and runsc run detached: no runtime process per sandbox, the init (runsc: its Sentry) followed through a
/// process descriptor, and the container's state deleted by the engine once it ended.</summary>
[Collection(SandboxTests.Name)]
public sealed class DetachedRuntimeTests(SandboxHost host)
{
    [SkippableFact]
    public async Task A_running_crun_sandbox_keeps_no_runtime_process_and_terminate_leaves_no_state_or_cgroup()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var sandbox = (ContainerHandle)await host.Runtime().StartAsync(host.Spec(), CancellationToken.None);
        var echo = await Run.ExecAsync(sandbox, "echo", "detached");
        var init = sandbox.Resources.Init!.Pid!.Value;
        var state = Path.Combine(sandbox.Resources.RuntimeRoot, sandbox.Id);

        Assert.Equal("detached\n", echo.Out);
        Assert.Empty(RuntimeProcessesOf(sandbox.Id));
        Assert.Contains("typedsandbox-agent", CommandLine(init), StringComparison.Ordinal);
        Assert.NotEqual(Environment.ProcessId, ParentOf(init));
        Assert.True(Directory.Exists(state), state);

        await sandbox.TerminateAsync(CancellationToken.None);

        Assert.Equal(new ProcessExit(null, 9, false), await sandbox.Exited);
        Assert.True(HasEnded(init), $"init {init} still runs");
        Assert.False(Directory.Exists(state), state);
        AssertNoCgroup(sandbox.Id);
        await sandbox.DisposeAsync();
    }

    [SkippableFact]
    public async Task An_init_killed_from_outside_ends_the_sandbox_and_its_state_is_deleted()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var sandbox = (ContainerHandle)await host.Runtime().StartAsync(host.Spec(), CancellationToken.None);
        var sleeper = await sandbox.ExecAsync(new ProcessSpec(["sleep", "1000"]), CancellationToken.None);
        var state = Path.Combine(sandbox.Resources.RuntimeRoot, sandbox.Id);
        var bundle = Path.GetDirectoryName(sandbox.RootfsPath)!;

        using (var kill = System.Diagnostics.Process.Start("kill", ["-KILL", sandbox.Resources.Init!.Pid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }

        // Not asked for by the engine: the process descriptor, not the channel's close, tells the sandbox ended.
        Assert.Equal(new ProcessExit(null, 9, false), await sandbox.Exited.WaitAsync(Run.Patience));
        Assert.Equal(9, (await sleeper.Completion.WaitAsync(Run.Patience)).Signal);
        await sandbox.TerminateAsync(CancellationToken.None);
        Assert.False(Directory.Exists(state), state);
        Assert.False(Directory.Exists(bundle), bundle);
        AssertNoCgroup(sandbox.Id);
        await sleeper.DisposeAsync();
        await sandbox.DisposeAsync();
    }

    [SkippableFact]
    public async Task A_start_crun_itself_fails_reports_its_exit_code_and_stderr_and_leaves_nothing()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        // A directory over the image's /bin/busybox file: crun's own mount fails (not the agent, which never starts).
        var directory = Directory.CreateDirectory(Path.Combine(host.ScratchDir, "dir-" + Guid.NewGuid().ToString("N"))).FullName;
        var spec = host.Spec() with { Mounts = [new BindMount(directory, "/bin/busybox", false)] };
        var runtime = host.Runtime();

        var error = await Assert.ThrowsAsync<ContainerStartException>(() => runtime.StartAsync(spec, CancellationToken.None));

        Assert.Contains("crun could not start sandbox " + spec.Id + " (exit code 1): ", error.Message, StringComparison.Ordinal);
        Assert.Contains("to `bin/busybox`: Not a directory", error.Message, StringComparison.Ordinal);
        Assert.Empty(RuntimeProcessesOf(spec.Id));
        Assert.False(Directory.Exists(Path.Combine(host.Options("crun").RunDirectory, "crun", spec.Id)));
        Assert.DoesNotContain(spec.Id, await File.ReadAllTextAsync("/proc/mounts"), StringComparison.Ordinal);
        AssertNoCgroup(spec.Id);
    }

    [SkippableFact]
    public async Task A_running_runsc_sandbox_keeps_no_runtime_process_its_sentry_is_followed_and_terminate_leaves_no_state_or_cgroup()
    {
        var sandbox = (ContainerHandle)await Runsc().StartAsync(host.Spec(), CancellationToken.None);
        var echo = await Run.ExecAsync(sandbox, "echo", "detached");
        var sentry = sandbox.Resources.Init!.Pid!.Value;

        Assert.Equal("detached\n", echo.Out);
        Assert.Empty(RuntimeProcessesOf(sandbox.Id, "runsc"));
        Assert.Contains("runsc-sandbox", CommandLine(sentry), StringComparison.Ordinal);
        // Followed through its descriptor (found in the sandbox's cgroup), not taken for ended.
        Assert.False(sandbox.Resources.Init.HasExited);
        Assert.NotEqual(Environment.ProcessId, ParentOf(sentry));
        Assert.NotEmpty(RunscStateOf(sandbox));

        await sandbox.TerminateAsync(CancellationToken.None);

        Assert.Equal(new ProcessExit(null, 9, false), await sandbox.Exited);
        Assert.True(HasEnded(sentry), $"Sentry {sentry} still runs");
        Assert.Empty(RunscStateOf(sandbox));
        Assert.Empty(ProcessesOf(sandbox.Id));
        AssertNoCgroup(sandbox.Id);
        await sandbox.DisposeAsync();
    }

    [SkippableFact]
    public async Task A_runsc_sentry_killed_from_outside_ends_the_sandbox_and_its_state_is_deleted()
    {
        var sandbox = (ContainerHandle)await Runsc().StartAsync(host.Spec(), CancellationToken.None);
        var sleeper = await sandbox.ExecAsync(new ProcessSpec(["sleep", "1000"]), CancellationToken.None);
        var bundle = Path.GetDirectoryName(sandbox.RootfsPath)!;

        using (var kill = System.Diagnostics.Process.Start("kill", ["-KILL", sandbox.Resources.Init!.Pid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }

        Assert.Equal(new ProcessExit(null, 9, false), await sandbox.Exited.WaitAsync(Run.Patience));
        Assert.Equal(9, (await sleeper.Completion.WaitAsync(Run.Patience)).Signal);
        await sandbox.TerminateAsync(CancellationToken.None);
        Assert.Empty(RunscStateOf(sandbox));
        Assert.False(Directory.Exists(bundle), bundle);
        Assert.Empty(ProcessesOf(sandbox.Id));
        AssertNoCgroup(sandbox.Id);
        await sleeper.DisposeAsync();
        await sandbox.DisposeAsync();
    }

    private IContainerRuntime Runsc()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        Skip.If(HostCheck.FindExecutable("runsc") is null, "runsc is not installed (apt-get install runsc)");
        return host.Runtime("runsc");
    }

    /// <summary>runsc's state files of the sandbox (<c>&lt;id&gt;_sandbox:&lt;id&gt;.state</c> and its lock).</summary>
    private static string[] RunscStateOf(ContainerHandle sandbox) =>
        Directory.Exists(sandbox.Resources.RuntimeRoot) ? Directory.GetFileSystemEntries(sandbox.Resources.RuntimeRoot, sandbox.Id + "*") : [];

    /// <summary>Host processes (Sentry, gofer, runtime) whose command line names container <paramref name="id"/>.</summary>
    private static List<string> ProcessesOf(string id) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Where(dir => int.TryParse(Path.GetFileName(dir), out var pid) && !HasEnded(pid))
            .Select(dir => CommandLine(int.Parse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture)))
            .Where(line => line.Contains(id, StringComparison.Ordinal))];

    private void AssertNoCgroup(string id)
    {
        foreach (var controller in Directory.GetDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup"))
        {
            Assert.False(Directory.Exists(Path.Combine(controller, host.CgroupParent, id)), controller);
        }
    }

    /// <summary>Host processes whose command line is a runtime's <c>run</c> (or <c>create</c>) of container <paramref name="id"/>.</summary>
    private static List<string> RuntimeProcessesOf(string id, string runtime = "crun") =>
        [.. Directory.EnumerateDirectories("/proc")
            .Where(dir => int.TryParse(Path.GetFileName(dir), out _))
            .Select(dir => CommandLine(int.Parse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture)))
            .Where(line => line.Contains(runtime, StringComparison.Ordinal) && line.Contains(id, StringComparison.Ordinal)
                && (line.Contains(" run ", StringComparison.Ordinal) || line.Contains(" create ", StringComparison.Ordinal)))];

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return ""; // gone while listed
        }
    }

    private static int ParentOf(int pid) =>
        int.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("PPid:", StringComparison.Ordinal))[5..].Trim(),
            System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Gone, or a zombie its parent (the host's init, not the engine) has not reaped yet.</summary>
    private static bool HasEnded(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }
}
