using System.Diagnostics;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Tests.Isolation;

[Collection(SandboxTests.Name)]
public sealed class LeftoversTests(SandboxHost host)
{
    [SkippableFact]
    public async Task What_a_dead_engine_left_behind_is_removed()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var options = host.Options("crun") with { StateDirectory = Path.Combine(host.ScratchDir, "dead-engine-" + Guid.NewGuid().ToString("N")[..8]) };
        var id = ContainerSpec.NewId();
        var bundle = Path.Combine(options.StateDirectory, "bundles", id);
        // The state a crashed engine leaves: a mounted overlay rootfs, a named network namespace, a cgroup.
        foreach (var dir in new[] { "upper", "work", "rootfs" })
        {
            Directory.CreateDirectory(Path.Combine(bundle, dir));
        }

        await RunAsync("mount", "-t", "overlay", "overlay", "-o",
            $"lowerdir={host.LayerDir},upperdir={bundle}/upper,workdir={bundle}/work", $"{bundle}/rootfs");
        await RunAsync("ip", "netns", "add", $"tsb-{id}");
        var cgroup = $"/sys/fs/cgroup/pids/{options.CgroupParent}/{id}";
        Directory.CreateDirectory(cgroup);

        var removed = await ContainerRuntimeFactory.RemoveLeftoversAsync(options, null, CancellationToken.None);

        Assert.Equal([id], removed);
        Assert.DoesNotContain(bundle, await File.ReadAllTextAsync("/proc/mounts"), StringComparison.Ordinal);
        Assert.False(Directory.Exists(bundle));
        Assert.False(File.Exists($"/run/netns/tsb-{id}"));
        Assert.False(Directory.Exists(cgroup));
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{file}: {err}");
    }
}
