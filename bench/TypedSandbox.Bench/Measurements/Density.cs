using System.Globalization;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Memory per idle sandbox: the drop in the host's MemAvailable with N idle sandboxes running, divided by N (mounts,
/// cgroups, the agent, runtime monitors, the engine's bookkeeping), and the engine process's RSS growth. The peer is N
/// idle containers of the bare runtime running <c>sleep</c>.
/// </summary>
internal static class Density
{
    public const string Title = "5. density: memory per idle sandbox";

    private const double Megabyte = 1024 * 1024;

    public static readonly Target EngineGoal = new("≤ 5 MiB", median => median <= 5);

    public static async Task RunAsync(BenchContext bench, ReportSection section, CancellationToken cancellationToken)
    {
        var n = bench.Options.Density;
        var count = n.ToString(CultureInfo.InvariantCulture);
        double? rawPerContainer = null;
        var started = new List<string>();
        try
        {
            await HostMemory.SettleAsync(cancellationToken);
            var before = HostMemory.AvailableBytes();
            for (var i = 0; i < n; i++)
            {
                started.Add(await bench.Raw.StartIdleAsync(cancellationToken));
            }

            await HostMemory.SettleAsync(cancellationToken);
            rawPerContainer = (before - HostMemory.AvailableBytes()) / Megabyte / n;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed($"{bench.RawName}, {n} idle containers", e);
        }
        finally
        {
            foreach (var id in started)
            {
                await bench.Raw.RemoveAsync(id);
            }
        }

        try
        {
            await HostMemory.SettleAsync(cancellationToken);
            var availableBefore = HostMemory.AvailableBytes();
            var rssBefore = HostMemory.ProcessRssBytes();
            // The node process creates the sandboxes and exits, so only the engine and the sandboxes stay resident.
            var created = await bench.Js.RunAsync("create-idle", n);
            var ids = created.GetProperty("ids").EnumerateArray().Select(id => id.GetString()!).ToList();
            try
            {
                await HostMemory.SettleAsync(cancellationToken);
                var perSandbox = (availableBefore - HostMemory.AvailableBytes()) / Megabyte / n;
                var rssPerSandbox = (HostMemory.ProcessRssBytes() - rssBefore) / Megabyte / n;
                section.Value("TypedSandbox: MemAvailable drop / N", perSandbox, count,
                    rawPerContainer is { } raw ? ReportSection.Ratio(perSandbox / raw, bench.RawName) : "");
                section.Value("TypedSandbox: engine RSS growth / N (engine-side memory)", rssPerSandbox, count, target: EngineGoal);
            }
            finally
            {
                await bench.Js.RunAsync("terminate", [.. ids]);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            section.Failed($"TypedSandbox, {n} idle sandboxes", e);
        }

        if (rawPerContainer is { } perContainer)
        {
            section.Value($"{bench.RawName}: MemAvailable drop / N (`sleep` containers)", perContainer, count);
        }

        section.Notes.Add("Single readings (not medians), in MiB, taken 2 s after a forced GC; MemAvailable also moves with page cache, " +
            "so treat differences under ~0.2 MiB per sandbox as noise. Sandboxes are created one after another through the JS SDK.");
    }
}
