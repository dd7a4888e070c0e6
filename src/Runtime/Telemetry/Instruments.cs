using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TypedSandbox.Telemetry;

/// <summary>The process-wide activity source and instruments behind <see cref="SandboxTelemetry"/>.</summary>
internal static class Instruments
{
    private static readonly string? Version = typeof(Instruments).Assembly.GetName().Version?.ToString(3);

    public static readonly ActivitySource Source = new(SandboxTelemetry.Name, Version);

    public static readonly Meter Meter = new(SandboxTelemetry.Name, Version);

    public static readonly Counter<long> Creates = Meter.CreateCounter<long>(SandboxTelemetry.CreatesCounter, "{sandbox}", "Sandboxes created.");

    public static readonly Histogram<double> CreateDuration = Meter.CreateHistogram<double>(
        SandboxTelemetry.CreateDurationHistogram, "s", "How long creating a sandbox took, image build included.");

    public static readonly Histogram<double> ExecDuration = Meter.CreateHistogram<double>(
        SandboxTelemetry.ExecDurationHistogram, "s", "How long a process ran until the client saw its exit.");

    public static readonly Counter<long> ExecExits = Meter.CreateCounter<long>(SandboxTelemetry.ExecExitsCounter, "{process}", "Processes whose exit the client saw.");

    public static readonly Counter<long> StreamedBytes = Meter.CreateCounter<long>(SandboxTelemetry.StreamedBytesCounter, "By", "Bytes streamed to and from processes.");

    public static readonly Counter<long> ImageBuilds = Meter.CreateCounter<long>(SandboxTelemetry.ImageBuildsCounter, "{build}", "Image builds asked for.");

    public static readonly Counter<long> FileOperations = Meter.CreateCounter<long>(SandboxTelemetry.FileOperationsCounter, "{operation}", "File operations.");

    /// <summary>The program's file name, never its arguments: <c>/usr/bin/python3</c> gives <c>python3</c>.</summary>
    public static string ExecutableName(string program)
    {
        var name = program[(program.LastIndexOf('/') + 1)..];
        return name.Length > 0 ? name : program;
    }

    /// <summary>Marks an activity failed with the exception's type (its message may carry output, so it is left out).</summary>
    public static void Fail(Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }
        var type = error.GetType().Name;
        activity.SetTag(SandboxTelemetry.ErrorTypeTag, type);
        activity.SetStatus(ActivityStatusCode.Error, type);
    }
}
