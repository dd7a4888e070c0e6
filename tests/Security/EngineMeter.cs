using System.Diagnostics;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// Measures the test process (which hosts the engine) during an attack: peak growth of resident memory and of the
/// managed heap over a baseline taken after a full collection, and CPU time spent.
/// </summary>
internal sealed class EngineMeter : IAsyncDisposable
{
    private readonly long _baselineRss;
    private readonly long _baselineHeap;
    private readonly TimeSpan _baselineCpu;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private long _peakRss;
    private long _peakHeap;

    private EngineMeter()
    {
        _baselineHeap = GC.GetTotalMemory(forceFullCollection: true);
        _baselineRss = Rss();
        _baselineCpu = Process.GetCurrentProcess().TotalProcessorTime;
        _peakRss = _baselineRss;
        _peakHeap = _baselineHeap;
        _sampling = SampleAsync();
    }

    public static EngineMeter Start() => new();

    /// <summary>Largest resident-memory growth seen, in bytes.</summary>
    public long PeakRssGrowth => Interlocked.Read(ref _peakRss) - _baselineRss;

    /// <summary>Largest managed-heap growth seen, in bytes.</summary>
    public long PeakHeapGrowth => Interlocked.Read(ref _peakHeap) - _baselineHeap;

    /// <summary>CPU time the process spent since the start.</summary>
    public TimeSpan Cpu => Process.GetCurrentProcess().TotalProcessorTime - _baselineCpu;

    /// <summary>Managed heap still held after a full collection, over the baseline.</summary>
    public static long RetainedHeapOver(long baseline) => GC.GetTotalMemory(forceFullCollection: true) - baseline;

    public long BaselineHeap => _baselineHeap;

    public string Report() =>
        $"peak RSS +{PeakRssGrowth / (1 << 20)} MiB, peak heap +{PeakHeapGrowth / (1 << 20)} MiB, CPU {Cpu.TotalSeconds:0.0} s";

    private static long Rss()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private async Task SampleAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var rss = Rss();
            var heap = GC.GetTotalMemory(forceFullCollection: false);
            if (rss > Interlocked.Read(ref _peakRss))
            {
                Interlocked.Exchange(ref _peakRss, rss);
            }

            if (heap > Interlocked.Read(ref _peakHeap))
            {
                Interlocked.Exchange(ref _peakHeap, heap);
            }

            try
            {
                await Task.Delay(10, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }
}
