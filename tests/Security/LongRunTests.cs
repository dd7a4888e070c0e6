using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Server.Sandboxes;
using Xunit.Abstractions;

namespace TypedSandbox.Security.Tests;

/// <summary>Many sandboxes in a row must not wear the engine down: descriptors, threads and host state stay flat.</summary>
[Collection(CrunAttacks.Name)]
public sealed class LongRunTests(SecurityEngine engine, ITestOutputHelper output)
{
    /// <summary>1000 by default; <c>TYPEDSANDBOX_LONGRUN_CYCLES</c> changes it (a quick local run).</summary>
    private static int Cycles =>
        int.TryParse(Environment.GetEnvironmentVariable("TYPEDSANDBOX_LONGRUN_CYCLES"), out var n) && n > 0 ? n : 1000;

    private const int Workers = 4;

    [Fact(Timeout = 90 * 60 * 1000)]
    public async Task Create_exec_terminate_cycles_leave_descriptors_threads_and_host_state_flat()
    {
        var state = engine.Engine.StateDirectory;
        var manager = engine.Engine.Host.Services.GetRequiredService<SandboxManager>();
        // Warm-up: pools, caches and the client's connection reach their steady state first.
        for (var i = 0; i < 10; i++)
        {
            await CycleAsync(manager);
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        var descriptorsBefore = EngineFootprint.Descriptors();
        var threadsBefore = EngineFootprint.Threads();
        // Four cycles at a time, as several clients of one engine would run them: the same 1000 creates, exec and
        // terminates, with the engine's waits (runtime start, agent greeting) overlapping instead of adding up.
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        var watch = Stopwatch.StartNew();
        await Parallel.ForAsync(0, Cycles, new ParallelOptions { MaxDegreeOfParallelism = Workers }, async (_, _) => ids.Add(await CycleAsync(manager)));
        watch.Stop();
        await EngineFootprint.EventuallyAsync(() => EngineFootprint.Bundles(state).Count == 0, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var descriptorsAfter = EngineFootprint.Descriptors();
        var threadsAfter = EngineFootprint.Threads();
        var added = descriptorsAfter.ToList();
        foreach (var old in descriptorsBefore)
        {
            added.Remove(old);
        }

        output.WriteLine($"{Cycles} create/exec/terminate cycles, {Workers} at a time, in {watch.Elapsed.TotalSeconds:0} s; " +
            $"descriptors {descriptorsBefore.Count} -> {descriptorsAfter.Count}, threads {threadsBefore} -> {threadsAfter}");
        Assert.True(descriptorsAfter.Count <= descriptorsBefore.Count + 16,
            $"descriptors grew from {descriptorsBefore.Count} to {descriptorsAfter.Count}: {EngineFootprint.Summarize(added)}");
        Assert.True(threadsAfter <= threadsBefore + 16, $"threads grew from {threadsBefore} to {threadsAfter}");
        var left = ids.SelectMany(id => EngineFootprint.LeftoversOf(state, id)).ToList();
        Assert.True(left.Count == 0, "left behind: " + string.Join(", ", left.Take(20)));
        Assert.Empty(EngineFootprint.SandboxMountsUnder(state));
        Assert.Empty(EngineFootprint.ProcessesNaming(state));
    }

    [Fact]
    public async Task Sandboxes_terminated_while_their_start_is_under_way_end_terminated_and_leave_nothing_behind()
    {
        var state = engine.Engine.StateDirectory;
        var manager = engine.Engine.Host.Services.GetRequiredService<SandboxManager>();
        var ids = new List<string>();
        var stillStarting = 0;
        for (var i = 0; i < 12; i++)
        {
            // The client's create returns before the container runs (as Modal's does); the terminate comes at once.
            await using var sandbox = await engine.Client.Sandboxes.CreateAsync(engine.App, engine.Client.Images.FromRegistry("busybox:latest"),
                new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5) });
            var session = manager.Get(sandbox.SandboxId);
            stillStarting += session.Started.IsCompleted ? 0 : 1;
            ids.Add(session.TaskId);
            await sandbox.TerminateAsync();
            Assert.Equal(137, await sandbox.WaitAsync());
            Assert.Equal(SandboxOutcome.Terminated, session.Result?.Outcome);
            await session.Started;
            Assert.Null(session.StartError);
        }

        output.WriteLine($"{stillStarting} of 12 sandboxes were still starting when their create returned");
        Assert.True(stillStarting > 0, "no create returned before its sandbox's start ended: the test did not test the start under way");
        await EngineFootprint.EventuallyAsync(() => ids.All(id => EngineFootprint.LeftoversOf(state, id).Count == 0), TimeSpan.FromSeconds(60));
        var left = ids.SelectMany(id => EngineFootprint.LeftoversOf(state, id)).ToList();
        Assert.True(left.Count == 0, "left behind: " + string.Join(", ", left.Take(20)));
        Assert.DoesNotContain(EngineFootprint.ProcessesNaming(state), p => ids.Any(p.Contains));
    }

    private async Task<string> CycleAsync(SandboxManager manager)
    {
        await using var sandbox = await engine.CreateSandboxAsync();
        var id = manager.Get(sandbox.SandboxId).TaskId;
        var echo = await sandbox.RunAsync(["echo", "cycle"]);
        Assert.Equal("cycle\n", echo.Stdout);
        await sandbox.TerminateAsync();
        return id;
    }
}
