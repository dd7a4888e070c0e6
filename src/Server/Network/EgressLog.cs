using System.Net;

namespace TypedSandbox.Server.Network;

internal static partial class EgressLog
{
    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Egress refused: {Destination} named {Host} ({Reason})")]
    public static partial void Refused(ILogger logger, IPEndPoint? destination, string? host, string reason);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Debug, Message = "Egress to {Host} via {Upstream}")]
    public static partial void Allowed(ILogger logger, string? host, IPEndPoint upstream);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Egress connection limit ({Limit}) reached; a connection was closed")]
    public static partial void AtCapacity(ILogger logger, int limit);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Debug, Message = "Egress connection ended: {Error}")]
    public static partial void ConnectionFailed(ILogger logger, string error);
}
