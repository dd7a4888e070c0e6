using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Testing;

namespace TypedSandbox.Server.Tests.Isolation;

/// <summary>The same bundles and agent under gVisor (runsc) and runc: the core exec path and its isolation.</summary>
[Collection(SandboxTests.Name)]
public sealed class RunscTests(SandboxHost host, WebServerNamespace web) : IClassFixture<WebServerNamespace>
{
    private IContainerRuntime Runsc()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        Skip.If(HostCheck.FindExecutable("runsc") is null, "runsc is not installed (apt-get install runsc)");
        return host.Runtime("runsc");
    }

    [SkippableFact]
    public async Task Exec_stdin_stdout_stderr_and_exit_codes_work_under_gvisor()
    {
        await using var sandbox = await Runsc().StartAsync(host.Spec(), CancellationToken.None);

        var echo = await Run.ShAsync(sandbox, "printf out; printf err >&2; exit 7");
        await using var cat = await sandbox.ExecAsync(new ProcessSpec(["cat"]), CancellationToken.None);
        await cat.WriteStdinAsync(0, "ping"u8.ToArray(), eof: true, CancellationToken.None);
        var catResult = await Run.CollectAsync(cat);
        var kernel = await Run.ExecAsync(sandbox, "uname", "-r");
        var status = await Run.ShAsync(sandbox, "grep -E '^Seccomp:' /proc/self/status");

        Assert.Equal(new ProcessExit(7, null, false), echo.Exit);
        Assert.Equal("out", echo.Out);
        Assert.Equal("err", echo.Err);
        Assert.Equal("ping", catResult.Out);
        // gVisor's own kernel answers, not the host's.
        Assert.NotEqual((await File.ReadAllTextAsync("/proc/sys/kernel/osrelease")).Trim(), kernel.Out.Trim());
        Assert.Matches(@"Seccomp:\s+2", status.Out);
    }

    [SkippableFact]
    public async Task Kill_and_terminate_work_under_gvisor()
    {
        var sandbox = await Runsc().StartAsync(host.Spec(), CancellationToken.None);
        var sleeper = await sandbox.ExecAsync(new ProcessSpec(["sleep", "1000"]), CancellationToken.None);

        await sleeper.KillAsync(CancellationToken.None);
        var killed = await sleeper.Completion.WaitAsync(Run.Patience);
        await sandbox.TerminateAsync(CancellationToken.None);

        Assert.Equal(9, killed.Signal);
        Assert.Equal(9, (await sandbox.Exited).Signal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(((ContainerHandle)sandbox).RootfsPath)));
        await sleeper.DisposeAsync();
        await sandbox.DisposeAsync();
    }

    [SkippableFact]
    public async Task Blocked_network_under_gvisor_has_only_loopback_and_cannot_reach_a_server_an_open_one_reaches()
    {
        var runsc = Runsc();
        Skip.If(web.SkipReason is not null, web.SkipReason);
        // The server runs in a network namespace this test made, on an address the host routes: the open sandbox
        // fetching from it shows the address is reachable, so the blocked sandbox's failure is the block.
        var fetch = $"printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {web.AddressA} 8080";
        await using var open = await runsc.StartAsync(host.Spec(network: NetworkPolicy.Open), CancellationToken.None);
        var reached = await Run.ShAsync(open, fetch);
        await using var sandbox = await runsc.StartAsync(host.Spec(), CancellationToken.None);

        var links = await Run.ShAsync(sandbox, "ip -o link | cut -d: -f2");
        var outside = await Run.ShAsync(sandbox, fetch);

        Assert.Contains("hello from the test namespace", reached.Out, StringComparison.Ordinal);
        Assert.Equal("lo", links.Out.Trim());
        Assert.NotEqual(0, outside.Exit.ExitCode);
        Assert.Empty(outside.Stdout);
    }

    [SkippableFact]
    public async Task The_runc_fallback_runs_the_same_bundle()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        Skip.If(HostCheck.FindExecutable("runc") is null, "runc is not installed (apt-get install runc)");
        await using var sandbox = await host.Runtime("runc").StartAsync(host.Spec(), CancellationToken.None);

        var result = await Run.ShAsync(sandbox, "printf out; printf err >&2; grep -E '^Seccomp:' /proc/self/status; exit 5");

        Assert.Equal(new ProcessExit(5, null, false), result.Exit);
        Assert.Matches(@"^outSeccomp:\s+2\n$", result.Out);
        Assert.Equal("err", result.Err);
    }
}
