using System.Globalization;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Memory per idle sandbox, with N idle sandboxes running, counted two ways. Exactly: the memory charged to the
/// sandboxes' cgroups (their processes, page cache and kernel memory: the sandbox's own), plus the engine-side memory
/// (the engine's RSS growth and the PSS of the runtime process it keeps per sandbox: runc's foreground run;
/// crun and runsc run detached and leave none). And as the host sees it: the drop
/// in MemAvailable, against the mean of the readings before creating and after removing them (which cancels a steady
/// drift), but moved by anything else running on the host. The peer is N detached containers of the bare runtime
/// running <c>sleep</c>.
/// </summary>
internal static class Density
{
    public const string Title = "5. density: memory per idle sandbox";

    private const double Mebibyte = 1024 * 1024;

    public static readonly Target EngineGoal = new("≤ 5 MiB", median => median <= 5);

    public static async Task RunAsync(BenchContext bench, Report report, CancellationToken cancellationToken)
    {
        var section = report.Section(Title, "MiB");
        var n = bench.Options.Density;
        var count = n.ToString(CultureInfo.InvariantCulture);
        (double Cgroups, double Available)? raw = null;
        try
        {
            var started = new List<string>();
            var before = await HostMemory.SettleAndReadAsync(cancellationToken);
            HostMemory.Reading during;
            long cgroups;
            try
            {
                for (var i = 0; i < n; i++)
                {
                    started.Add(await bench.Raw.StartIdleAsync(cancellationToken));
                }

                during = await HostMemory.SettleAndReadAsync(cancellationToken);
                cgroups = HostMemory.CgroupBytes(bench.Raw.CgroupParentPath);
            }
            finally
            {
                foreach (var id in started)
                {
                    await bench.Raw.RemoveAsync(id);
                }
            }

            var after = await HostMemory.SettleAndReadAsync(cancellationToken);
            raw = (cgroups / Mebibyte / n, Drop(before.Available, during.Available, after.Available, n));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed($"{bench.RawName}, {n} idle containers", e);
        }

        try
        {
            var before = await HostMemory.SettleAndReadAsync(cancellationToken, bench.Engine.StateDirectory);
            // The node process creates the sandboxes and exits, so only the engine and the sandboxes stay resident.
            var created = await bench.Js.RunAsync("create-idle", n, bench.Options.DensityBlocked ? "blocked" : "open");
            var ids = created.GetProperty("ids").EnumerateArray().Select(id => (object)id.GetString()!).ToArray();
            HostMemory.Reading during;
            try
            {
                during = await HostMemory.SettleAndReadAsync(cancellationToken, bench.Engine.StateDirectory);
            }
            finally
            {
                await bench.Js.RunAsync("terminate", ids);
            }

            var after = await HostMemory.SettleAndReadAsync(cancellationToken, bench.Engine.StateDirectory);
            var own = (during.SandboxCgroups - before.SandboxCgroups) / Mebibyte / n;
            var engine = (during.EngineRss - before.EngineRss) / Mebibyte / n;
            var monitors = (during.ChildrenPss - before.ChildrenPss) / Mebibyte / n;
            var total = own + engine + monitors;
            section.Value("TypedSandbox: total per sandbox (cgroup + engine-side)", total, count,
                raw is { } r ? ReportSection.Ratio(total / r.Cgroups, bench.RawName) : "");
            section.Value("  the sandbox's own (its memory cgroup: agent, page cache, kernel memory)", own, count);
            section.Value("  engine-side: engine process RSS growth", engine, count);
            section.Value($"  engine-side: `{bench.Options.Runtime}` processes kept per sandbox (PSS of the engine's children; none under detached crun)", monitors, count);
            section.Value("TypedSandbox engine-side memory per sandbox", engine + monitors, count, target: EngineGoal);
            section.Value("TypedSandbox: host MemAvailable drop / N (noisy)", Drop(before.Available, during.Available, after.Available, n), count);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed($"TypedSandbox, {n} idle sandboxes", e);
        }

        if (raw is { } peer)
        {
            section.Value($"{bench.RawName}: per container (its memory cgroup; detached `sleep`, no runtime process stays)", peer.Cgroups, count);
            section.Value($"{bench.RawName}: host MemAvailable drop / N (noisy)", peer.Available, count);
        }

        section.Notes.Add("Single readings (not medians), in MiB, each taken after a forced GC once the engine's RSS holds still, while all N are idle. The cgroup and " +
            "engine-side rows count only this run's sandboxes and processes; MemAvailable moves with everything else on the host. " +
            "Sandboxes are created one after another through the JS SDK, whose node process has exited before the reading; " +
            (bench.Options.DensityBlocked ? "their network is blocked (no slirp4netns process each)." : "each has the open network (a slirp4netns process each).") +
            " Should the run stop midway, the engine's disposal terminates every sandbox it still holds.");
    }

    /// <summary>The drop from the mean of the readings around the measurement, per item, in MiB.</summary>
    private static double Drop(long before, long during, long after, int n) => (((before + after) / 2.0) - during) / Mebibyte / n;
}
