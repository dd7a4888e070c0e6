using System.Formats.Tar;

namespace TypedSandbox.Server.Images;

/// <summary>The image subsystem's log messages.</summary>
internal static partial class ImageLog
{
    [LoggerMessage(1001, LogLevel.Debug, "Skipping layer entry {Name} of type {Type}")]
    public static partial void SkippedLayerEntry(ILogger logger, string name, TarEntryType type);

    [LoggerMessage(1002, LogLevel.Debug, "Could not set xattr {Xattr} on {Path}: {Message}")]
    public static partial void XattrNotSet(ILogger logger, string xattr, string path, string message);

    [LoggerMessage(1004, LogLevel.Information, "Layer entry {Name} is a {Type}: not created (sandboxes get their devices from the runtime)")]
    public static partial void DeviceNodeDropped(ILogger logger, string name, TarEntryType type);

    [LoggerMessage(1005, LogLevel.Information, "Layer entry {Name}: attribute {Xattr} dropped (layers carry no file capabilities or trusted attributes)")]
    public static partial void XattrDropped(ILogger logger, string name, string xattr);

    [LoggerMessage(1006, LogLevel.Information, "Removing {Directory}: layers unpacked for another sandbox id range are unpacked again on use")]
    public static partial void StaleLayersRemoved(ILogger logger, string directory);

    [LoggerMessage(1003, LogLevel.Information, "Mirror {Mirror} failed for {Reference}: {Message}")]
    public static partial void MirrorFailed(ILogger logger, Uri mirror, ImageReference reference, string message);
}
