using System.Diagnostics;

namespace TypedSandbox.Telemetry;

/// <summary>The span and measurements of one process: ended once, by its exit, its timeout or its handle's disposal.</summary>
internal sealed class ExecTelemetry(Activity? activity, string executable)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private int _ended;

    /// <summary>The client saw the process exit with <paramref name="exitCode"/>.</summary>
    public void Exited(int exitCode)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }
        activity?.SetTag(SandboxTelemetry.ExitCodeTag, exitCode);
        var tags = new TagList
        {
            { SandboxTelemetry.ExecutableTag, executable },
            { SandboxTelemetry.ExitCodeTag, exitCode },
        };
        Instruments.ExecExits.Add(1, tags);
        Instruments.ExecDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tags);
        activity?.Stop();
    }

    /// <summary>The process ran past its timeout (or waiting for it failed).</summary>
    public void Failed(Exception error)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }
        Instruments.Fail(activity, error);
        var tags = new TagList
        {
            { SandboxTelemetry.ExecutableTag, executable },
            { SandboxTelemetry.ErrorTypeTag, error.GetType().Name },
        };
        Instruments.ExecExits.Add(1, tags);
        Instruments.ExecDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tags);
        activity?.Stop();
    }

    /// <summary>The handle was disposed before its exit was seen: the span ends, no exit is counted.</summary>
    public void Abandoned()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }
        activity?.Stop();
    }
}
