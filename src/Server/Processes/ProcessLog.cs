namespace TypedSandbox.Server.Processes;

internal static partial class ProcessLog
{
    [LoggerMessage(EventId = 1071, Level = LogLevel.Warning, Message = "'{Command}' failed with exit code {ExitCode}: {Stderr}")]
    public static partial void Failed(ILogger logger, string command, int exitCode, string stderr);

    [LoggerMessage(EventId = 1072, Level = LogLevel.Warning, Message = "'{Command}' ran longer than {Timeout} and was killed: {Stderr}")]
    public static partial void TimedOut(ILogger logger, string command, TimeSpan timeout, string stderr);

    [LoggerMessage(EventId = 1073, Level = LogLevel.Warning, Message = "'{Command}' could not be started: {Error}")]
    public static partial void StartFailed(ILogger logger, string command, string error);
}
