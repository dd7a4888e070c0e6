using System.Globalization;
using System.Text;
using TypedSandbox.Bench.Harness;

namespace TypedSandbox.Bench.Reporting;

/// <summary>A design target checked against a median: its text (e.g. "≤ 60 ms") and whether a value meets it.</summary>
internal sealed record Target(string Text, Func<double, bool> IsMet);

/// <summary>One line of a section's table; every cell already formatted.</summary>
internal sealed record ReportRow(string Subject, string Median, string P90, string Count, string Ratio, string Target);

/// <summary>One measurement: a heading, a table of subjects measured side by side, and notes under it.</summary>
internal sealed class ReportSection(string title, string unit)
{
    public string Title { get; } = title;

    public string Unit { get; } = unit;

    public List<ReportRow> Rows { get; } = [];

    public List<string> Notes { get; } = [];

    /// <summary>A latency series (lower is better); the ratio is this median over the peer's.</summary>
    public void Latency(string subject, Samples samples, (string Name, Samples Samples)? peer = null, Target? target = null) =>
        Rows.Add(new(subject, Number(samples.Median), Number(samples.P90), Count(samples.Count),
            peer is { } p ? Ratio(samples.Median / p.Samples.Median, p.Name) : "", Check(samples.Median, target)));

    /// <summary>A throughput series (higher is better); the ratio is this median over the peer's.</summary>
    public void Throughput(string subject, Samples samples, string exactness, (string Name, Samples Samples)? peer = null, Target? target = null) =>
        Rows.Add(new(subject, Number(samples.Median), Number(samples.Percentile(10)), $"{samples.Count}, {exactness}",
            peer is { } p ? Ratio(samples.Median / p.Samples.Median, p.Name) : "", Check(samples.Median, target)));

    /// <summary>A single measured value.</summary>
    public void Value(string subject, double value, string count, string ratio = "", Target? target = null) =>
        Rows.Add(new(subject, Number(value), "", count, ratio, Check(value, target)));

    /// <summary>A subject that could not be measured here (not installed, no daemon).</summary>
    public void Unavailable(string subject, string reason) => Rows.Add(new(subject, reason, "", "", "", ""));

    /// <summary>A subject whose measurement failed; the run goes on.</summary>
    public void Failed(string subject, Exception error)
    {
        var message = error.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? error.GetType().Name;
        Rows.Add(new(subject, "failed", "", "", "", ""));
        Notes.Add($"{subject} failed: {error.GetType().Name}: {message}");
    }

    public static string Ratio(double ratio, string peer) => string.Create(CultureInfo.InvariantCulture, $"{ratio:0.00}× {peer}");

    public static string Number(double value) => value switch
    {
        >= 100 => value.ToString("0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.00", CultureInfo.InvariantCulture),
    };

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Check(double value, Target? target) => target is null ? "" : $"{target.Text} {(target.IsMet(value) ? "✓" : "✗")}";
}

/// <summary>The benchmark's result: the machine it ran on, then one table per measurement.</summary>
internal sealed class Report(IEnumerable<(string Key, string Value)> context)
{
    private readonly List<(string Key, string Value)> _context = [.. context];
    private readonly List<ReportSection> _sections = [];

    /// <summary>Adds a line to the header (what the machine was doing, settings).</summary>
    public void AddContext(string key, string value) => _context.Add((key, value));

    public ReportSection Section(string title, string unit)
    {
        var section = new ReportSection(title, unit);
        _sections.Add(section);
        return section;
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine("# TypedSandbox benchmark").AppendLine();
        foreach (var (key, value) in _context)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {key}: {value}");
        }

        // Titles start with their number ("1.", "3a.", …): list them in that order, whatever order they ran in.
        foreach (var section in _sections.OrderBy(s => s.Title, StringComparer.Ordinal))
        {
            var throughput = section.Unit.Contains("/s", StringComparison.Ordinal);
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"## {section.Title}").AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| subject | median ({section.Unit}) | {(throughput ? "p10" : "p90")} | n | ratio | target |");
            text.AppendLine("|---|---:|---:|---|---|---|");
            foreach (var row in section.Rows)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {row.Subject} | {row.Median} | {row.P90} | {row.Count} | {row.Ratio} | {row.Target} |");
            }

            if (section.Notes.Count > 0)
            {
                text.AppendLine();
                foreach (var note in section.Notes)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
                }
            }
        }

        return text.ToString();
    }
}
