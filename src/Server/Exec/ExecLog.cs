namespace TypedSandbox.Server.Exec;

internal static partial class ExecLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "The agent channel broke")]
    public static partial void ChannelBroke(ILogger logger, Exception exception);
}
