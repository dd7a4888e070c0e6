using System.Globalization;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// Each sandbox has its own limits, but enough sandboxes within theirs could together take every pid or every page of
/// the host. The engine bounds all of them together (the limits of their parent cgroup). The attack: two sandboxes,
/// each well within its own limits, together ask for more tasks (and then more memory) than an engine started with a
/// small bound allows. The bound holds, the refusal lands inside the sandboxes (a failed fork, an OOM kill), and the
/// host and the engine go on. The engine gets a parent cgroup of its own, removed afterwards.
/// </summary>
public sealed class SandboxTotalsAttackTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const long PidsTotal = 300;
    private const long MemoryTotal = 400L << 20;

    [Fact]
    public async Task Sandboxes_together_cannot_take_more_tasks_or_memory_than_the_engine_wide_bound()
    {
        var parent = "typedsandbox-totals-" + Guid.NewGuid().ToString("N")[..8];
        var engine = await TestEngine.StartAsync(configure: o => o with { CgroupParent = parent, SandboxPidsTotal = PidsTotal, SandboxMemoryTotalBytes = MemoryTotal });
        try
        {
            await using var client = SecurityEngine.CreateClient(engine);
            var app = await client.Apps.FromNameAsync("totals", createIfMissing: true);
            var options = new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), BlockNetwork = true, MemoryMiB = 1024 };
            Assert.Equal(PidsTotal.ToString(CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(CgroupFile("pids", parent, "pids.max"))).Trim());

            // Tasks: the first sandbox starts 150 sleeps and holds them; the second then tries 150 more. (Each sandbox's
            // agent and shell hold a few dozen tasks of their own: the bound counts threads.)
            await using (var first = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"), options))
            await using (var second = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"), options))
            {
                const string Spawn = "for i in $(seq 150); do sleep 300 </dev/null >/dev/null 2>&1 & done 2>/dev/null; echo started=$(ps -o args | grep -c '^sleep 300')";
                var one = await first.RunAsync(["sh", "-c", Spawn]);
                var two = await second.RunAsync(["sh", "-c", Spawn]);
                var held = long.Parse((await File.ReadAllTextAsync(CgroupFile("pids", parent, "pids.current"))).Trim(), CultureInfo.InvariantCulture);
                output.WriteLine($"first: {one.Stdout.Trim()} second: {two.Stdout.Trim()} held by all: {held}");

                // The first got its work done; the second was refused part or all of it (when not even its count could
                // fork, it printed nothing); all together never held more than the bound.
                Assert.InRange(Started(one.Stdout) ?? 0, 100, 150);
                Assert.InRange(Started(two.Stdout) ?? 0, 0, 149);
                Assert.InRange(held, 150, PidsTotal);
                // The host is untouched: this process still starts processes.
                var host = await ExternalProcess.RunAsync("/bin/true", [], "/", null, TimeSpan.FromSeconds(10));
                Assert.Equal(0, host.ExitCode);
            }

            // Memory: each sandbox may use 1 GiB; together they may use 400 MiB. Each touches 250 MiB and holds it.
            await using (var first = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("python:3.13-slim"), options))
            await using (var second = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("python:3.13-slim"), options))
            {
                const string Hold = "import time; b = b'x' * (250 << 20); print('held', flush=True); time.sleep(8)";
                var firstHolds = first.RunAsync(["python3", "-c", Hold]);
                await WaitForUsageAsync(parent, 250L << 20);
                var two = await second.RunAsync(["python3", "-c", Hold]);
                var one = await firstHolds;
                var peak = long.Parse((await File.ReadAllTextAsync(CgroupFile("memory", parent, "memory.max_usage_in_bytes"))).Trim(), CultureInfo.InvariantCulture);
                output.WriteLine($"first: {one.ExitCode} {one.Stdout.Trim()} second: {two.ExitCode} {two.Stdout.Trim()} peak of all: {peak >> 20} MiB");

                // One of them was killed for memory (the kernel picks the largest), not any process of the host.
                Assert.Contains(137, new[] { one.ExitCode, two.ExitCode });
                Assert.InRange(peak, 250L << 20, MemoryTotal);
            }
        }
        finally
        {
            await engine.DisposeAsync();
            foreach (var controller in Directory.GetDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup"))
            {
                var directory = Path.Combine(controller, parent);
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory);
                }
            }
        }
    }

    private static int? Started(string stdout) =>
        stdout.Split("started=") is [_, var count] ? int.Parse(count.Trim(), CultureInfo.InvariantCulture) : null;

    // cgroup v1 (one hierarchy per controller), as on the hosts these tests run on; v2 keeps every file in one tree.
    private static string CgroupFile(string controller, string parent, string file)
    {
        var v1 = Path.Combine("/sys/fs/cgroup", controller, parent, file);
        return File.Exists(v1) ? v1 : Path.Combine("/sys/fs/cgroup", parent, file.Replace("max_usage_in_bytes", "peak", StringComparison.Ordinal));
    }

    private static async Task WaitForUsageAsync(string parent, long bytes)
    {
        var usage = CgroupFile("memory", parent, "memory.usage_in_bytes");
        usage = File.Exists(usage) ? usage : Path.Combine("/sys/fs/cgroup", parent, "memory.current");
        for (var waited = 0; waited < 600; waited++)
        {
            if (long.Parse((await File.ReadAllTextAsync(usage)).Trim(), CultureInfo.InvariantCulture) >= bytes)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"The first sandbox never held {bytes >> 20} MiB.");
    }
}
