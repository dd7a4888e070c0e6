using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Tests.Isolation;

namespace TypedSandbox.Server.Tests.Exec;

/// <summary>Entrypoints, termination and cleanup of whole sandboxes.</summary>
[Collection(SandboxTests.Name)]
public sealed class SandboxLifecycleTests(SandboxHost host)
{
    [SkippableFact]
    public async Task Entrypoint_exit_ends_the_sandbox_with_its_status()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var spec = host.Spec(entrypoint: new ProcessSpec(["sh", "-c", "echo from-main; sleep 1000 & exit 3"]));
        await using var sandbox = await host.Runtime().StartAsync(spec, CancellationToken.None);

        var exit = await sandbox.Exited.WaitAsync(Run.Patience);
        var output = await sandbox.Entrypoint!.Stdout.ReadToEndAsync(0, CancellationToken.None);

        Assert.Equal(new ProcessExit(3, null, false), exit);
        Assert.Equal("from-main\n"u8.ToArray(), output);
        await Assert.ThrowsAsync<SandboxEndedException>(() => sandbox.ExecAsync(new ProcessSpec(["true"]), CancellationToken.None));
    }

    [SkippableFact]
    public async Task Terminate_kills_running_execs_and_removes_everything()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var sandbox = await host.Runtime().StartAsync(host.Spec(), CancellationToken.None);
        var sleeper = await sandbox.ExecAsync(new ProcessSpec(["sleep", "1000"]), CancellationToken.None);
        var rootfs = ((ContainerHandle)sandbox).RootfsPath;
        var bundle = Path.GetDirectoryName(rootfs)!;
        Assert.Contains(rootfs, await File.ReadAllTextAsync("/proc/mounts"), StringComparison.Ordinal);

        await sandbox.TerminateAsync(CancellationToken.None);

        Assert.Equal(9, (await sleeper.Completion.WaitAsync(Run.Patience)).Signal);
        Assert.Equal(new ProcessExit(null, 9, false), await sandbox.Exited);
        Assert.DoesNotContain(rootfs, await File.ReadAllTextAsync("/proc/mounts"), StringComparison.Ordinal);
        Assert.False(Directory.Exists(bundle));
        foreach (var controller in Directory.GetDirectories("/sys/fs/cgroup"))
        {
            Assert.False(Directory.Exists(Path.Combine(controller, host.CgroupParent, sandbox.Id)), controller);
        }

        await sleeper.DisposeAsync();
        await sandbox.DisposeAsync();
    }

    [SkippableFact]
    public async Task A_missing_layer_is_a_clear_argument_error()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var spec = host.Spec() with { LayerDirs = [Path.Combine(host.ScratchDir, "no-such-layer")] };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => host.Runtime().StartAsync(spec, CancellationToken.None));

        Assert.Contains("no-such-layer", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task An_entrypoint_that_cannot_start_fails_the_start_and_leaves_nothing_behind()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var spec = host.Spec(entrypoint: new ProcessSpec(["/no/such/program"]));

        var error = await Assert.ThrowsAsync<ExecStartException>(() => host.Runtime().StartAsync(spec, CancellationToken.None));

        Assert.Contains("/no/such/program", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(spec.Id, await File.ReadAllTextAsync("/proc/mounts"), StringComparison.Ordinal);
        foreach (var controller in Directory.GetDirectories("/sys/fs/cgroup"))
        {
            Assert.False(Directory.Exists(Path.Combine(controller, host.CgroupParent, spec.Id)), controller);
        }
    }

    [SkippableFact]
    public async Task An_entrypoint_killed_by_a_signal_reports_the_signal()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var spec = host.Spec(entrypoint: new ProcessSpec(["sh", "-c", "kill -TERM $$"]));
        await using var sandbox = await host.Runtime().StartAsync(spec, CancellationToken.None);

        var exit = await sandbox.Exited.WaitAsync(Run.Patience);

        Assert.Equal(new ProcessExit(null, 15, false), exit);
        Assert.Equal(143, exit.StatusCode);
    }
}
