using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// The engine keeps one open network ready (a namespace held by a descriptor, slirp4netns ready on it) for the next open
/// sandbox. A claimed network must be that sandbox's alone, and the one kept ready must end with the engine.
/// </summary>
public sealed class NetworkAheadTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task An_open_network_made_ahead_serves_one_sandbox_and_ends_with_the_engine()
    {
        var engine = await TestEngine.StartAsync();
        int kept;
        try
        {
            await using var client = SecurityEngine.CreateClient(engine);
            var app = await client.Apps.FromNameAsync("network-ahead", createIfMissing: true);
            var image = client.Images.FromRegistry("busybox:latest");
            var options = new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) };

            // Each create returns before its container runs; its first exec waits for it.
            await using var first = await client.Sandboxes.CreateAsync(app, image, options);
            Assert.Equal(0, (await first.RunAsync(["true"])).ExitCode);
            var ahead = await KeptReadyAsync();
            // Its slirp4netns runs before the network is ready (tap0, low ports, the filter): the claim takes only a ready one.
            await NetworkMadeAhead.WaitUntilReadyAsync(engine);

            await using var second = await client.Sandboxes.CreateAsync(app, image, options);
            Assert.Equal(0, (await second.RunAsync(["true"])).ExitCode);

            // The second sandbox's network is the one made ahead: its slirp4netns now serves it, in its cgroups.
            Assert.Contains("/typedsandbox/", await File.ReadAllTextAsync($"/proc/{ahead}/cgroup"), StringComparison.Ordinal);
            var networks = new List<string>();
            foreach (var sandbox in new[] { first, second })
            {
                var result = await sandbox.RunAsync(["sh", "-c", "readlink /proc/self/ns/net; ip -4 addr show tap0 | grep -o 'inet [0-9./]*'; ls /sys/class/net"]);
                output.WriteLine(result.Stdout);
                Assert.Equal(0, result.ExitCode);
                Assert.Contains("inet 10.0.2.100/24", result.Stdout, StringComparison.Ordinal);
                networks.Add(result.Stdout.Split('\n')[0]);
            }
            Assert.NotEqual(networks[0], networks[1]);
            kept = await KeptReadyAsync();
            Assert.NotEqual(ahead, kept);
        }
        finally
        {
            await engine.DisposeAsync();
        }

        Assert.False(Directory.Exists($"/proc/{kept}"), $"slirp4netns {kept}, kept ready, outlived its engine");
    }

    /// <summary>The slirp4netns of the network kept ready: started by this process, in no sandbox's cgroups yet.</summary>
    private static async Task<int> KeptReadyAsync()
    {
        var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        for (var waited = 0; waited < 100; waited++)
        {
            foreach (var dir in Directory.GetDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    continue;
                }

                try
                {
                    var status = await File.ReadAllLinesAsync(Path.Combine(dir, "status"));
                    if (status.Contains("Name:\tslirp4netns") && status.Contains("PPid:\t" + self)
                        && !(await File.ReadAllTextAsync(Path.Combine(dir, "cgroup"))).Contains("/typedsandbox/", StringComparison.Ordinal))
                    {
                        return pid;
                    }
                }
                catch (IOException)
                {
                    // gone meanwhile
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("No open network was made ahead within 10 s.");
    }
}

/// <summary>Waits for the engine's open network made ahead (<c>NetworkPool</c>), so the next open create claims it.</summary>
internal static class NetworkMadeAhead
{
    public static async Task WaitUntilReadyAsync(TestEngine engine)
    {
        var pool = ((RuntimeChoice)engine.Host.Services.GetRequiredService<IContainerRuntime>()).Default.Networks;
        for (var waited = 0; !pool.HasReady; waited++)
        {
            Assert.True(waited < 200, "The network made ahead did not become ready within 10 s.");
            await Task.Delay(50);
        }
    }
}
