using System.Globalization;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Memory per idle sandbox. With N idle sandboxes running: the drop in the host's MemAvailable / N (mounts, cgroups,
/// the agent, the runtime process the engine keeps per sandbox, the engine's bookkeeping), the engine's RSS growth / N
/// and its child processes' PSS growth / N. The baseline is the mean of the readings before creating and after removing
/// them, which cancels a steady drift from other work on the host. The peer is N detached containers of the bare
/// runtime running <c>sleep</c>.
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
        double? rawPerContainer = null;
        try
        {
            var started = new List<string>();
            var before = await HostMemory.SettleAndReadAsync(cancellationToken);
            HostMemory.Reading during;
            try
            {
                for (var i = 0; i < n; i++)
                {
                    started.Add(await bench.Raw.StartIdleAsync(cancellationToken));
                }

                during = await HostMemory.SettleAndReadAsync(cancellationToken);
            }
            finally
            {
                foreach (var id in started)
                {
                    await bench.Raw.RemoveAsync(id);
                }
            }

            var after = await HostMemory.SettleAndReadAsync(cancellationToken);
            rawPerContainer = PerItem(before.Available, during.Available, after.Available, n);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed($"{bench.RawName}, {n} idle containers", e);
        }

        try
        {
            var before = await HostMemory.SettleAndReadAsync(cancellationToken);
            // The node process creates the sandboxes and exits, so only the engine and the sandboxes stay resident.
            var created = await bench.Js.RunAsync("create-idle", n);
            var ids = created.GetProperty("ids").EnumerateArray().Select(id => (object)id.GetString()!).ToArray();
            HostMemory.Reading during;
            try
            {
                during = await HostMemory.SettleAndReadAsync(cancellationToken);
            }
            finally
            {
                await bench.Js.RunAsync("terminate", ids);
            }

            var after = await HostMemory.SettleAndReadAsync(cancellationToken);
            var perSandbox = PerItem(before.Available, during.Available, after.Available, n);
            var engine = (during.EngineRss - before.EngineRss) / Mebibyte / n;
            var children = (during.ChildrenPss - before.ChildrenPss) / Mebibyte / n;
            section.Value("TypedSandbox: MemAvailable drop / N", perSandbox, count,
                rawPerContainer is { } raw ? ReportSection.Ratio(perSandbox / raw, bench.RawName) : "");
            section.Value("  of which engine process RSS growth / N", engine, count);
            section.Value($"  of which engine's child processes (`{bench.Options.Runtime} run` per sandbox) PSS / N", children, count);
            section.Value("TypedSandbox engine-side memory / N (engine RSS + its runtime processes)", engine + children, count, target: EngineGoal);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed($"TypedSandbox, {n} idle sandboxes", e);
        }

        if (rawPerContainer is { } perContainer)
        {
            section.Value($"{bench.RawName}: MemAvailable drop / N (detached `sleep` containers)", perContainer, count);
        }

        section.Notes.Add("Single readings (not medians), in MiB, each taken 2 s after a forced GC. MemAvailable moves with " +
            "everything else on the host (page cache, other processes), so small differences are noise; the engine-side rows are exact. " +
            "Sandboxes are created one after another through the JS SDK, whose node process has exited before the reading.");
    }

    /// <summary>The drop from the mean of the readings around the measurement, per item, in MiB.</summary>
    private static double PerItem(long before, long during, long after, int n) => (((before + after) / 2.0) - during) / Mebibyte / n;
}
