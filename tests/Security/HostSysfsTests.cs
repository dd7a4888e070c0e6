namespace TypedSandbox.Security.Tests;

/// <summary>
/// A sandbox's <c>/sys</c> is a sysfs of its own network namespace, never the host's: sandbox code listing
/// <c>/sys/class/net</c> must not learn the host's interfaces or their MAC addresses. When a network namespace is owned
/// by the host's user namespace, a sandbox cannot mount sysfs for it and crun binds the host's instead; the engine makes
/// every open network in a user namespace the sandbox joins, and a sidecar joins its sandbox's. Under crun (gVisor's
/// kernel has a sysfs of its own).
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class HostSysfsTests(SecurityEngine engine, Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Look = "ls /sys/class/net | tr '\\n' ' '; echo; cat /sys/class/net/*/address 2>/dev/null | tr '\\n' ' '";

    [Fact]
    public async Task No_sandbox_open_blocked_or_sidecar_sees_the_hosts_network_interfaces_in_sys()
    {
        var hostInterfaces = Directory.GetDirectories("/sys/class/net").Select(Path.GetFileName).Where(n => n != "lo").ToList();
        Assert.NotEmpty(hostInterfaces);
        var hostAddresses = hostInterfaces.Select(n => File.ReadAllText($"/sys/class/net/{n}/address").Trim())
            .Where(a => a != "00:00:00:00:00:00").ToList();
        var open = new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) };

        // The first open sandbox makes its network at its create (unless an earlier test left one made ahead), the next
        // ones claim the network made ahead once it is ready.
        await using var first = await engine.CreateSandboxAsync(open);
        await NetworkMadeAhead.WaitUntilReadyAsync(engine.Engine);
        await using var second = await engine.CreateSandboxAsync(open);
        await NetworkMadeAhead.WaitUntilReadyAsync(engine.Engine);
        await using var third = await engine.CreateSandboxAsync(open);
        await using var blocked = await engine.CreateSandboxAsync(new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), BlockNetwork = true });
        var sidecar = await second.Sidecars.CreateAsync("probe", await engine.Client.Images.FromRegistry("busybox:latest").BuildAsync(engine.App));

        var views = new List<(string Who, string Seen)>();
        foreach (var (who, run) in new (string, Func<Task<ExecResult>>)[]
        {
            ("open, made at create", () => first.RunAsync(["sh", "-c", Look])),
            ("open, made ahead", () => second.RunAsync(["sh", "-c", Look])),
            ("open, made ahead again", () => third.RunAsync(["sh", "-c", Look])),
            ("blocked", () => blocked.RunAsync(["sh", "-c", Look])),
            ("sidecar of an open sandbox", () => sidecar.RunAsync(["sh", "-c", Look])),
        })
        {
            var result = await run();
            output.WriteLine($"{who}: {result.Stdout}");
            Assert.Equal(0, result.ExitCode);
            views.Add((who, result.Stdout));
        }

        foreach (var (who, seen) in views)
        {
            var lines = seen.Split('\n');
            var names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.All(names, n => Assert.True(n is "lo" or "tap0", $"{who} sees the interface '{n}' in /sys/class/net"));
            Assert.All(hostAddresses, a => Assert.DoesNotContain(a, lines[1], StringComparison.OrdinalIgnoreCase));
        }
        Assert.Contains("tap0", views[0].Seen, StringComparison.Ordinal);
        Assert.Contains("tap0", views[1].Seen, StringComparison.Ordinal);
        Assert.Contains("tap0", views[4].Seen, StringComparison.Ordinal);
    }
}
