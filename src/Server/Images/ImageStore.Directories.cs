namespace TypedSandbox.Server.Images;

/// <summary>Images of one directory (Modal's <c>snapshotDirectory</c>): a single layer with no parent and no config.</summary>
internal sealed partial class ImageStore
{
    /// <summary>
    /// Stores <paramref name="directory"/> (moved, so it must be on the image store's file system) as the only layer of a
    /// new image: its content is the image's root, to be mounted into sandboxes (<c>mountImage</c>).
    /// </summary>
    public Task<ImageRecord> CommitDirectoryAsync(string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        cancellationToken.ThrowIfCancellationRequested();
        var imageId = "im-" + Hash(HashDomain + "\ndirectory\n" + Guid.NewGuid().ToString("N"))[..24];
        var layerName = "directory-" + imageId;
        try
        {
            Directory.Move(directory, _layout.LayerDir(layerName));
        }
        catch (IOException e)
        {
            throw new IOException($"Cannot move the directory snapshot '{directory}' into the image store (it must be on the same file system as '{_layout.Root}'): {e.Message}", e);
        }

        var image = new StoredImage([layerName], ImageConfig.Empty);
        _layout.WriteJsonDurably(_layout.ImagePath(imageId), image);
        return Task.FromResult(ToRecord(imageId, image));
    }
}
