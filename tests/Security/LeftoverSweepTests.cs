using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// Cgroups and network namespaces whose bundle is already gone (an engine died between removing one and the other):
/// the sweep every engine start runs removes them once older than their grace, while a namespace and a cgroup a process still uses (a neighbouring engine's
/// running sandbox) stay.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class LeftoverSweepTests
{
    private const string CgroupParent = "typedsandbox";

    [Fact(Timeout = 5 * 60 * 1000)]
    public async Task Cgroups_and_network_namespaces_without_a_bundle_are_removed_past_their_grace_and_those_in_use_stay()
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var orphan = "ta-orphan" + suffix;
        var busy = "ta-busy" + suffix;
        var state = TestEngine.NewStateDirectory();
        var parents = Directory.GetDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup")
            .Select(h => Path.Combine(h, CgroupParent)).Where(Directory.Exists).ToList();
        Process? holder = null;
        // Before anything is made: every leftover's timestamp is at or after it.
        var made = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1);
        try
        {
            Assert.NotEmpty(parents);
            foreach (var parent in parents)
            {
                Directory.CreateDirectory(Path.Combine(parent, orphan, "nested"));
            }

            await RunAsync("ip", "netns", "add", "tsb-" + orphan);
            // A process in a namespace and a cgroup of their own: what a running sandbox of another engine looks like.
            await RunAsync("ip", "netns", "add", "tsb-" + busy);
            holder = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", "tsb-" + busy, "sleep", "600"]) { UseShellExecute = false })
                ?? throw new InvalidOperationException("could not start the holder");
            var held = Path.Combine(parents.First(p => p.Contains("/pids/", StringComparison.Ordinal) || p == "/sys/fs/cgroup/" + CgroupParent), busy);
            Directory.CreateDirectory(held);
            await File.WriteAllTextAsync(Path.Combine(held, "cgroup.procs"), holder.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(await EngineFootprint.EventuallyAsync(() => NamespaceOf(holder.Id) == NamespaceOf("tsb-" + busy), TimeSpan.FromSeconds(30)),
                "the holder never entered its namespace");
            var sweep = new ContainerRuntimeOptions { StateDirectory = Path.Combine(state, "sandboxes"), CgroupParent = CgroupParent, Clock = new FixedClock(made) };

            // At the moment they were made they are within the grace (a neighbour's sandbox may be starting): kept.
            await Leftovers.RemoveAsync(sweep, NullLogger.Instance, CancellationToken.None);
            Assert.NotEmpty(EngineFootprint.Cgroups(orphan));
            Assert.True(EngineFootprint.HasNetworkNamespace(orphan), "a namespace within its grace was removed");

            // Past the grace: the orphans go, what a process uses stays.
            await Leftovers.RemoveAsync(sweep with { Clock = new FixedClock(DateTimeOffset.UtcNow + Leftovers.OrphanGrace + TimeSpan.FromSeconds(1)) },
                NullLogger.Instance, CancellationToken.None);
            Assert.Empty(EngineFootprint.Cgroups(orphan));
            Assert.False(EngineFootprint.HasNetworkNamespace(orphan), "the orphan network namespace outlived the sweep");
            Assert.True(Directory.Exists(held), "a cgroup holding a process was removed");
            Assert.True(EngineFootprint.HasNetworkNamespace(busy), "a network namespace in use was removed");
        }
        finally
        {
            if (holder is not null)
            {
                holder.Kill();
                await holder.WaitForExitAsync();
                holder.Dispose();
            }

            foreach (var name in new[] { orphan, busy })
            {
                await ExternalProcess.RunAsync("ip", ["netns", "del", "tsb-" + name], "/", null, TimeSpan.FromSeconds(30));
                foreach (var cgroup in parents.Select(p => Path.Combine(p, name)).Where(Directory.Exists))
                {
                    foreach (var dir in Directory.GetDirectories(cgroup, "*", SearchOption.AllDirectories).Append(cgroup).OrderByDescending(d => d.Length))
                    {
                        Directory.Delete(dir);
                    }
                }
            }

            TestEngine.DeleteStateDirectory(state);
        }
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var result = await ExternalProcess.RunAsync(file, args, "/", null, TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, $"{file} {string.Join(' ', args)}: {result.Stderr}");
    }

    private static string NamespaceOf(int pid) => new FileInfo($"/proc/{pid}/ns/net").LinkTarget ?? "";

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static string NamespaceOf(string name) => $"net:[{LinuxNative.InodeOf("/run/netns/" + name)}]";
}
