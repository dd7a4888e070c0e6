using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Server.Sandboxes;
using Xunit.Abstractions;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// Many sandboxes alive at once (issue 13's density) must each work, and must leave nothing behind once they are gone:
/// the engine's descriptors and threads return to where they were, and no mount, cgroup, netns, bundle or process
/// of any of them stays on the host. The bench measures the memory of 1,000; this test checks the leaks of 200.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class DensityTests(SecurityEngine engine, ITestOutputHelper output)
{
    private const int Sandboxes = 200;
    private const int OpenNetworkEvery = 10;
    private const int AtOnce = 8;

    [Fact(Timeout = 20 * 60 * 1000)]
    public async Task Two_hundred_sandboxes_alive_at_once_all_answer_and_leave_nothing_once_terminated()
    {
        var state = engine.Engine.StateDirectory;
        var manager = engine.Engine.Host.Services.GetRequiredService<SandboxManager>();
        await using (var warm = await engine.CreateSandboxAsync())
        {
            Assert.Equal("warm\n", (await warm.RunAsync(["echo", "warm"])).Stdout);
            await warm.TerminateAsync();
        }

        await EngineFootprint.EventuallyAsync(() => EngineFootprint.Bundles(state).Count == 0, TimeSpan.FromSeconds(60));
        var descriptorsBefore = EngineFootprint.Descriptors();
        var threadsBefore = EngineFootprint.Threads();
        var alive = new ConcurrentDictionary<int, Sandbox>();
        var ids = new ConcurrentBag<string>();
        try
        {
            // Every tenth with an open network (its own netns and network helper), the rest blocked.
            await Parallel.ForAsync(0, Sandboxes, new ParallelOptions { MaxDegreeOfParallelism = AtOnce }, async (i, _) =>
            {
                var sandbox = await engine.CreateSandboxAsync(new SandboxCreateOptions
                {
                    Timeout = TimeSpan.FromMinutes(15),
                    BlockNetwork = i % OpenNetworkEvery != 0,
                });
                alive[i] = sandbox;
                ids.Add(manager.Get(sandbox.SandboxId).TaskId);
            });
            Assert.Equal(Sandboxes, EngineFootprint.Bundles(state).Count);

            // All of them at once, each with its own answer: none is a shell of another.
            await Parallel.ForAsync(0, Sandboxes, new ParallelOptions { MaxDegreeOfParallelism = AtOnce * 4 }, async (i, ct) =>
            {
                var result = await alive[i].RunAsync(["sh", "-c", $"echo {i} $(hostname)"], cancellationToken: ct);
                Assert.Equal(0, result.ExitCode);
                Assert.StartsWith($"{i} ", result.Stdout, StringComparison.Ordinal);
            });
            var descriptorsAlive = EngineFootprint.Descriptors().Count;
            output.WriteLine($"{Sandboxes} sandboxes alive; engine descriptors {descriptorsBefore.Count} -> {descriptorsAlive}, " +
                $"threads {threadsBefore} -> {EngineFootprint.Threads()}");
        }
        finally
        {
            await Parallel.ForEachAsync(alive.Values, new ParallelOptions { MaxDegreeOfParallelism = AtOnce * 2 }, async (sandbox, ct) =>
            {
                await sandbox.TerminateAsync(ct);
                await sandbox.DisposeAsync();
            });
        }

        await EngineFootprint.EventuallyAsync(() => EngineFootprint.Bundles(state).Count == 0, TimeSpan.FromSeconds(120));
        var settled = await EngineFootprint.EventuallyAsync(
            () => EngineFootprint.Descriptors().Count <= descriptorsBefore.Count + 16 && EngineFootprint.Threads() <= threadsBefore + 16,
            TimeSpan.FromSeconds(60));
        var descriptorsAfter = EngineFootprint.Descriptors();
        var added = descriptorsAfter.ToList();
        foreach (var old in descriptorsBefore)
        {
            added.Remove(old);
        }

        output.WriteLine($"after terminating all: descriptors {descriptorsAfter.Count}, threads {EngineFootprint.Threads()}");
        Assert.True(settled, $"descriptors {descriptorsBefore.Count} -> {descriptorsAfter.Count} ({EngineFootprint.Summarize(added)}), " +
            $"threads {threadsBefore} -> {EngineFootprint.Threads()}");
        var left = ids.SelectMany(id => EngineFootprint.LeftoversOf(state, id)).ToList();
        Assert.True(left.Count == 0, "left behind: " + string.Join(", ", left.Take(20)));
        Assert.Empty(EngineFootprint.SandboxMountsUnder(state));
        Assert.Empty(EngineFootprint.ProcessesNaming(state));
    }
}
