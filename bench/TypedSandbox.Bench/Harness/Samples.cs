namespace TypedSandbox.Bench.Harness;

/// <summary>Repeated timings of one thing, summarized by the median and the 90th percentile.</summary>
internal sealed class Samples
{
    private readonly double[] _sorted;

    public Samples(IEnumerable<double> values)
    {
        _sorted = [.. values.Order()];
        if (_sorted.Length == 0)
        {
            throw new ArgumentException("No samples were taken.", nameof(values));
        }
    }

    public int Count => _sorted.Length;

    public double Median => Percentile(50);

    public double P90 => Percentile(90);

    public static Samples Of(IEnumerable<TimeSpan> values) => new(values.Select(v => v.TotalMilliseconds));

    /// <summary>Linear interpolation between the closest ranks.</summary>
    public double Percentile(double percent)
    {
        var rank = percent / 100 * (_sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return _sorted[low] + ((_sorted[high] - _sorted[low]) * (rank - low));
    }
}
