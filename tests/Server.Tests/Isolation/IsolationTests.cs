using System.Net;
using System.Net.Sockets;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Tests.Isolation;

/// <summary>What a sandbox must not see or do, checked from inside real crun sandboxes through the agent's exec path.</summary>
[Collection(SandboxTests.Name)]
public sealed class IsolationTests(SandboxHost host)
{
    [SkippableFact]
    public async Task A_host_file_outside_the_rootfs_is_not_readable()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var secret = Path.Combine(host.ScratchDir, "host-secret-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(secret, "TOP-SECRET");
        await using var sandbox = await host.Runtime().StartAsync(host.Spec(), CancellationToken.None);

        var direct = await Run.ExecAsync(sandbox, "cat", secret);
        var viaInit = await Run.ExecAsync(sandbox, "cat", "/proc/1/root" + secret);
        var listing = await Run.ExecAsync(sandbox, "ls", host.ScratchDir);

        Assert.NotEqual(0, direct.Exit.ExitCode);
        Assert.NotEqual(0, viaInit.Exit.ExitCode);
        Assert.DoesNotContain("TOP-SECRET", direct.Out + viaInit.Out, StringComparison.Ordinal);
        Assert.NotEqual(0, listing.Exit.ExitCode);
    }

    [SkippableFact]
    public async Task The_hosts_loopback_is_unreachable()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        foreach (var network in new[] { NetworkPolicy.Blocked, NetworkPolicy.Open })
        {
            await using var sandbox = await host.Runtime().StartAsync(host.Spec(network: network), CancellationToken.None);
            // 127.0.0.1 is the sandbox's own loopback; 10.0.2.2 is where slirp would map the host's loopback.
            var loopback = await Run.ShAsync(sandbox, $"echo hi | nc -w 2 127.0.0.1 {port}");
            var gateway = await Run.ShAsync(sandbox, $"echo hi | nc -w 2 10.0.2.2 {port}");

            Assert.NotEqual(0, loopback.Exit.ExitCode);
            Assert.NotEqual(0, gateway.Exit.ExitCode);
        }
        Assert.False(listener.Pending());
    }

    [SkippableFact]
    public async Task Only_the_sandboxs_own_processes_are_visible()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var sandbox = await host.Runtime().StartAsync(host.Spec(), CancellationToken.None);

        var commands = await Run.ShAsync(sandbox, "for p in /proc/[0-9]*; do echo \"${p#/proc/}: $(tr '\\0' ' ' < $p/cmdline)\"; done");
        var lines = commands.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Contains(lines, l => l.StartsWith("1: ", StringComparison.Ordinal) && l.Contains("typedsandbox-agent", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("dotnet", StringComparison.Ordinal) || l.Contains("testhost", StringComparison.Ordinal));
        Assert.True(lines.Length <= 5, commands.Out);
    }

    [SkippableFact]
    public async Task Seccomp_capabilities_and_no_new_privs_apply_to_execd_processes()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var sandbox = await host.Runtime().StartAsync(host.Spec(), CancellationToken.None);

        var status = (await Run.ShAsync(sandbox, "grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status")).Out;
        var mount = await Run.ShAsync(sandbox, "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m");
        var unshare = await Run.ShAsync(sandbox, "unshare -n true");

        Assert.Matches(@"Seccomp:\s+2", status);
        Assert.Matches(@"NoNewPrivs:\s+1", status);
        Assert.Matches(@"CapEff:\s+00000000a80405fb", status); // Docker's default set without CAP_NET_RAW (bit 13)
        Assert.NotEqual(0, mount.Exit.ExitCode);
        Assert.NotEqual(0, unshare.Exit.ExitCode);
    }

    [SkippableFact]
    public async Task Crun_loads_the_seccomp_program_the_engine_had_it_compile_once_and_it_denies_what_the_profile_denies()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var spec = host.Spec();
        await using var sandbox = await host.Runtime().StartAsync(spec, CancellationToken.None);

        var config = System.Text.Json.Nodes.JsonNode.Parse(
            await File.ReadAllTextAsync(Path.Combine(host.Options("crun").StateDirectory, "bundles", spec.Id, "config.json")))!;
        var program = Convert.FromBase64String((string)config["annotations"]![CompiledSeccompFilter.Annotation]!);
        // unshare(CLONE_NEWUSER) needs no capability: only the filter refuses it.
        var userNamespace = await Run.ShAsync(sandbox, "unshare -U true");
        var status = (await Run.ShAsync(sandbox, "grep -E '^Seccomp:' /proc/self/status")).Out;

        Assert.Null(config["linux"]!["seccomp"]);
        Assert.True(program.Length > 800, $"{program.Length} bytes"); // ~960 instructions of 8 bytes for this profile
        Assert.Equal(0, program.Length % 8);
        Assert.Matches(@"Seccomp:\s+2", status);
        Assert.NotEqual(0, userNamespace.Exit.ExitCode);
        Assert.Contains("Operation not permitted", userNamespace.Err, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_fork_bomb_is_contained_by_the_pids_limit()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var sandbox = await host.Runtime().StartAsync(host.Spec(limits: new ResourceLimits(256L << 20, 1000, 64)), CancellationToken.None);
        var pids = $"/sys/fs/cgroup/pids/{host.CgroupParent}/{sandbox.Id}";
        // Never start the bomb unless the limit is really in place.
        Assert.Equal("64", (await File.ReadAllTextAsync($"{pids}/pids.max")).Trim());

        var bomb = new ProcessSpec(["sh", "-c", "f(){ f | f & }; f; sleep 1000"]) { Timeout = TimeSpan.FromSeconds(3), DiscardStderr = true };
        await using var process = await sandbox.ExecAsync(bomb, CancellationToken.None);
        // The bomb burns out on EAGAIN, is killed at the timeout, or is killed by the agent when the limit leaves it
        // no thread to pump the output: how it ends varies, that the limit held it does not.
        await process.Completion.WaitAsync(Run.Patience);

        var events = await File.ReadAllTextAsync($"{pids}/pids.events");
        Assert.Matches(@"max [1-9]", events);
        Assert.True(int.Parse((await File.ReadAllTextAsync($"{pids}/pids.current")).Trim(), System.Globalization.CultureInfo.InvariantCulture) <= 64);
        Assert.Equal("alive\n", (await Run.ExecAsync(sandbox, "echo", "alive")).Out);
    }

    [SkippableFact]
    public async Task A_memory_hog_is_oom_killed_and_reported_while_the_sandbox_survives()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var sandbox = await host.Runtime().StartAsync(host.Spec(limits: new ResourceLimits(64L << 20, 1000, 128)), CancellationToken.None);

        // dd allocates its block buffer: 256 MiB of touched memory under a 64 MiB limit.
        var hog = await Run.ExecAsync(sandbox, "dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1");
        var after = await Run.ExecAsync(sandbox, "echo", "alive");

        Assert.Equal(9, hog.Exit.Signal);
        Assert.True(hog.Exit.OomKilled);
        Assert.Equal("alive\n", after.Out);
        Assert.False(sandbox.Exited.IsCompleted);
    }

    [SkippableFact]
    public async Task Cpu_quota_is_written_to_the_cgroup()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var sandbox = await host.Runtime().StartAsync(host.Spec(limits: new ResourceLimits(128L << 20, 500, 128)), CancellationToken.None);

        var quota = await File.ReadAllTextAsync($"/sys/fs/cgroup/cpu/{host.CgroupParent}/{sandbox.Id}/cpu.cfs_quota_us");
        var memory = await File.ReadAllTextAsync($"/sys/fs/cgroup/memory/{host.CgroupParent}/{sandbox.Id}/memory.limit_in_bytes");

        Assert.Equal("50000", quota.Trim());
        Assert.Equal((128L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), memory.Trim());
    }

    [SkippableFact]
    public async Task Bind_mounts_are_visible_and_read_only_ones_reject_writes()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var volume = Directory.CreateDirectory(Path.Combine(host.ScratchDir, "vol-" + Guid.NewGuid().ToString("N"))).FullName;
        await File.WriteAllTextAsync(Path.Combine(volume, "in.txt"), "from host");
        var spec = host.Spec() with { Mounts = [new BindMount(volume, "/data", false), new BindMount(volume, "/ro", true)] };
        await using var sandbox = await host.Runtime().StartAsync(spec, CancellationToken.None);

        var read = await Run.ExecAsync(sandbox, "cat", "/data/in.txt");
        var write = await Run.ShAsync(sandbox, "echo from sandbox > /data/out.txt");
        var readOnly = await Run.ShAsync(sandbox, "echo nope > /ro/nope.txt");

        Assert.Equal("from host", read.Out);
        Assert.Equal(0, write.Exit.ExitCode);
        Assert.Equal("from sandbox\n", await File.ReadAllTextAsync(Path.Combine(volume, "out.txt")));
        Assert.NotEqual(0, readOnly.Exit.ExitCode);
        Assert.False(File.Exists(Path.Combine(volume, "nope.txt")));
    }

    [SkippableFact]
    public async Task Sandbox_processes_cannot_reach_the_agents_channel_to_the_engine()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var sandbox = await host.Runtime().StartAsync(host.Spec(), CancellationToken.None);

        // The agent is not dumpable: its fds (the engine's frames) are out of reach even for root in the sandbox.
        var write = await Run.ShAsync(sandbox, "echo garbage > /proc/1/fd/1");
        var read = await Run.ShAsync(sandbox, "head -c 1 /proc/1/fd/0");
        var after = await Run.ExecAsync(sandbox, "echo", "still fine");

        Assert.NotEqual(0, write.Exit.ExitCode);
        Assert.NotEqual(0, read.Exit.ExitCode);
        Assert.Equal("still fine\n", after.Out);
    }
}
