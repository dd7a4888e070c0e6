using System.Formats.Tar;
using Microsoft.Extensions.Logging;

namespace TypedSandbox.Server.Images;

/// <summary>The image subsystem's log messages.</summary>
internal static partial class ImageLog
{
    [LoggerMessage(1001, LogLevel.Debug, "Skipping layer entry {Name} of type {Type}")]
    public static partial void SkippedLayerEntry(ILogger logger, string name, TarEntryType type);

    [LoggerMessage(1002, LogLevel.Debug, "Could not set xattr {Xattr} on {Path}: {Message}")]
    public static partial void XattrNotSet(ILogger logger, string xattr, string path, string message);

    [LoggerMessage(1003, LogLevel.Information, "Mirror {Mirror} failed for {Reference}: {Message}")]
    public static partial void MirrorFailed(ILogger logger, Uri mirror, ImageReference reference, string message);
}
