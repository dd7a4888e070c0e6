using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace TypedSandbox;

/// <summary>Every log message of the client, in one place.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Server warning: {Warning}")]
    public static partial void ServerWarning(ILogger logger, string warning);

    [LoggerMessage(3, LogLevel.Warning, "Refreshing the auth token failed; using the current token until it expires.")]
    public static partial void AuthRefreshFailed(ILogger logger, Exception error);

    [LoggerMessage(4, LogLevel.Warning, "The auth token has no readable 'exp' claim; assuming it lasts {Lifetime}.")]
    public static partial void AuthTokenWithoutExpiry(ILogger logger, TimeSpan lifetime);

    [LoggerMessage(5, LogLevel.Debug, "Reading {Stream} failed with {Status}; resuming at offset {Offset} in {Delay}.")]
    public static partial void StreamResuming(ILogger logger, string stream, StatusCode status, long offset, TimeSpan delay);

    [LoggerMessage(6, LogLevel.Warning, "{Stream}: the server no longer has bytes {From}..{To}; they were dropped.")]
    public static partial void StreamBytesDropped(ILogger logger, string stream, long from, long to);

    [LoggerMessage(7, LogLevel.Information, "Building image {ImageId}.")]
    public static partial void ImageBuilding(ILogger logger, string imageId);

    // One entry per line of the build log: each step ("Step 1/3: RUN ..."), then its output.
    [LoggerMessage(8, LogLevel.Information, "[build {ImageId}] {Text}")]
    public static partial void ImageBuildOutput(ILogger logger, string imageId, string text);

    [LoggerMessage(9, LogLevel.Debug, "Created sandbox {SandboxId} (task {TaskId}).")]
    public static partial void SandboxCreated(ILogger logger, string sandboxId, string taskId);

    [LoggerMessage(10, LogLevel.Debug, "Terminating sandbox {SandboxId} after a failed start also failed.")]
    public static partial void TerminateAfterFailedStartFailed(ILogger logger, Exception error, string sandboxId);

    [LoggerMessage(11, LogLevel.Debug, "Started exec {ExecId} in {SandboxId}.")]
    public static partial void ExecStarted(ILogger logger, string execId, string sandboxId);

    /// <summary>The event id of <see cref="Retrying"/>.</summary>
    public const int RetryingEventId = 13;

    [LoggerMessage(RetryingEventId, LogLevel.Debug, "{Method} failed with {Status}; retrying in {Delay}.")]
    public static partial void Retrying(ILogger logger, string method, StatusCode status, TimeSpan delay);

    [LoggerMessage(12, LogLevel.Debug, "Terminating sandbox {SandboxId} on dispose failed.")]
    public static partial void TerminateOnDisposeFailed(ILogger logger, Exception error, string sandboxId);
}
