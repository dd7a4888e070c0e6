using System.Globalization;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// slirp4netns parses an OPEN sandbox's packets as root on the host: it must run sandboxed (seccomp, no capabilities
/// beyond what it keeps) and inside the sandbox's cgroups, so traffic the sandbox makes costs the sandbox's CPU share,
/// not the host's.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class NetworkHelperAttackTests(SecurityEngine engine, WebServerNamespace web, Xunit.Abstractions.ITestOutputHelper output)
    : IClassFixture<WebServerNamespace>
{
    [Fact]
    public async Task Slirp4netns_of_an_open_sandbox_runs_under_seccomp_in_the_sandboxes_cgroup()
    {
        var before = SlirpProcesses();
        await using var sandbox = await engine.CreateSandboxAsync();
        var slirp = Assert.Single(SlirpProcesses().Except(before));

        var status = await File.ReadAllLinesAsync($"/proc/{slirp}/status");
        Assert.Contains("Seccomp:\t2", status);
        Assert.Contains("NoNewPrivs:\t1", status);
        var cgroups = await File.ReadAllLinesAsync($"/proc/{slirp}/cgroup");
        Assert.Contains(cgroups, line => line.Contains(":cpu", StringComparison.Ordinal) && line.Contains("/typedsandbox/", StringComparison.Ordinal));
        Assert.Contains(cgroups, line => line.Contains(":memory:", StringComparison.Ordinal) && line.Contains("/typedsandbox/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_udp_flood_from_a_tenth_of_a_cpu_sandbox_cannot_make_slirp4netns_burn_more_than_that_share()
    {
        Assert.Null(web.SkipReason);
        var before = SlirpProcesses();
        await using var sandbox = await engine.CreateSandboxAsync(
            new() { Timeout = TimeSpan.FromMinutes(5), Cpu = 0.1, CpuLimit = 0.1 }, "python:3.13-slim");
        var slirp = Assert.Single(SlirpProcesses().Except(before));
        var cpuBefore = CpuSeconds(slirp);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // 60 KB datagrams to a server address outside the host: slirp copies and forwards each one on the host.
        var result = await sandbox.RunAsync(["python3", "-c", $$"""
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            data, end, sent = bytes(60000), time.time() + 6, 0
            while time.time() < end:
                try: s.sendto(data, ("{{web.AddressA}}", 9)); sent += 1
                except OSError: pass
            print("sent", sent)
            """]);
        var elapsed = clock.Elapsed.TotalSeconds;
        var burned = CpuSeconds(slirp) - cpuBefore;

        output.WriteLine($"slirp4netns: {burned:0.00} CPU-s in {elapsed:0.0} s; sandbox: {result.Stdout.Trim()} datagrams");
        Assert.Equal(0, result.ExitCode);
        // Sandbox and helper share 0.1 CPU; a little slack for the accounting's tick granularity.
        Assert.True(burned <= (0.1 * elapsed) + 0.3, $"slirp4netns burned {burned:0.00} CPU-s in {elapsed:0.0} s ({result.Stdout.Trim()})");
    }

    /// <summary>
    /// slirp4netns processes this test process (the in-process engine) started that serve a sandbox (in its cgroups): a
    /// create's comes from the network the engine made ahead, and the next is made ahead beside it.
    /// </summary>
    private static HashSet<int> SlirpProcesses()
    {
        var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var found = new HashSet<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var status = File.ReadAllLines(Path.Combine(dir, "status"));
                if (status.Contains("Name:\tslirp4netns") && status.Contains("PPid:\t" + self)
                    && File.ReadAllText(Path.Combine(dir, "cgroup")).Contains("/typedsandbox/", StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // gone meanwhile
            }
        }
        return found;
    }

    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime (fields 14 and 15 of stat; 12 and 13 after the command) in clock ticks of 1/100 s.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
