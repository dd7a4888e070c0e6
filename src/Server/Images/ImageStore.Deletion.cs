namespace TypedSandbox.Server.Images;

/// <summary>
/// Deleting images and reclaiming their layers. A layer is reclaimed once no image record, no build in progress and no
/// mounted root filesystem (a running sandbox or build step) uses it; a layer still mounted is kept in a deferred list
/// (persisted) and reclaimed by a later deletion or the next engine start.
/// </summary>
internal sealed partial class ImageStore
{
    private const string DeferredFile = "reclaim.json";
    private readonly Lock _collectGate = new();
    private readonly Dictionary<string, int> _pins = new(StringComparer.Ordinal);

    /// <summary>
    /// Removes the record of <paramref name="imageId"/> (it can no longer start sandboxes or serve as a base) and
    /// reclaims the layers nothing else uses. Returns the names of the layers removed from disk.
    /// </summary>
    /// <exception cref="ImageNotFoundException">There is no such image (NOT_FOUND).</exception>
    public async Task<IReadOnlyList<string>> DeleteAsync(string imageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(imageId);
        List<string> moved;
        List<string> removed;
        lock (_collectGate)
        {
            var path = _layout.ImagePath(imageId);
            var stored = (ImageIdPattern().IsMatch(imageId) ? ImageStoreLayout.ReadJson<StoredImage>(path) : null)
                ?? throw new ImageNotFoundException(imageId, $"Could not find image with ID {imageId}");
            File.Delete(path);
            (moved, removed) = DetachUnusedLayers([.. ReadDeferred(), .. stored.Layers]);
        }

        foreach (var temp in moved)
        {
            await Isolation.TreeRemoval.DeleteAsync(temp, cancellationToken).ConfigureAwait(false);
        }

        LogDeleted(imageId, removed.Count);
        return removed;
    }

    /// <summary>Reclaims layers a deletion had to leave because they were mounted then (called at start).</summary>
    private void ReclaimDeferred()
    {
        List<string> moved;
        lock (_collectGate)
        {
            (moved, _) = DetachUnusedLayers(ReadDeferred());
        }

        foreach (var temp in moved)
        {
            Isolation.TreeRemoval.Delete(temp);
        }
    }

    /// <summary>
    /// Moves the unused ones of <paramref name="candidates"/> out of <c>layers/</c> (under the gate, so no build can pick
    /// them up), forgets the build steps that produced them, and records the ones still mounted for later.
    /// </summary>
    private (List<string> Moved, List<string> Removed) DetachUnusedLayers(IEnumerable<string> candidates)
    {
        var referenced = ReferencedLayers();
        var mounted = MountedLayerDirectories();
        var moved = new List<string>();
        var removed = new List<string>();
        var deferred = new List<string>();
        foreach (var layer in candidates.Distinct(StringComparer.Ordinal))
        {
            var dir = _layout.LayerDir(layer);
            if (referenced.Contains(layer) || _pins.ContainsKey(layer) || !Directory.Exists(dir))
            {
                continue;
            }

            if (mounted.Contains(dir))
            {
                deferred.Add(layer);
                continue;
            }

            var temp = _layout.NewTempPath();
            Directory.Move(dir, temp);
            moved.Add(temp);
            removed.Add(layer);
        }

        ForgetSteps(removed);
        _layout.WriteJsonDurably(Path.Combine(_layout.Root, DeferredFile), deferred);
        return (moved, removed);
    }

    /// <summary>Layers named by any image record.</summary>
    private HashSet<string> ReferencedLayers()
    {
        var layers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(_layout.Images, "*.json"))
        {
            layers.UnionWith(ImageStoreLayout.ReadJson<StoredImage>(file)?.Layers ?? []);
        }

        return layers;
    }

    /// <summary>Deletes the cached build steps whose result uses a removed layer (they would miss the cache anyway).</summary>
    private void ForgetSteps(List<string> removedLayers)
    {
        if (removedLayers.Count == 0)
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(_layout.Steps, "*.json"))
        {
            if (ImageStoreLayout.ReadJson<StoredImage>(file) is { } step && step.Layers.Any(removedLayers.Contains))
            {
                File.Delete(file);
            }
        }
    }

    private List<string> ReadDeferred() =>
        ImageStoreLayout.ReadJson<List<string>>(Path.Combine(_layout.Root, DeferredFile)) ?? [];

    /// <summary>Every directory an overlay mount of this process's mount namespace stacks as a lower layer.</summary>
    private static HashSet<string> MountedLayerDirectories()
    {
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // "<id> <parent> <dev> <root> <mount point> <options> [tags] - <fstype> <source> <super options>"
            var separator = line.IndexOf(" - ", StringComparison.Ordinal);
            var fields = separator < 0 ? [] : line[(separator + 3)..].Split(' ');
            if (fields.Length < 3 || fields[0] != "overlay")
            {
                continue;
            }

            foreach (var option in fields[2].Split(','))
            {
                if (option.StartsWith("lowerdir=", StringComparison.Ordinal))
                {
                    dirs.UnionWith(option["lowerdir=".Length..].Split(':').Select(d => d.Replace("\\040", " ", StringComparison.Ordinal)));
                }
            }
        }

        return dirs;
    }

    /// <summary>Reads a cached build step and pins its layers for the build, or returns null when it is not usable.</summary>
    private StoredImage? ReadStepPinned(string path, List<string> pins)
    {
        lock (_collectGate)
        {
            var step = ImageStoreLayout.ReadJson<StoredImage>(path);
            if (step is null || !LayersPresent(step))
            {
                return null;
            }

            PinLocked(step.Layers, pins);
            return step;
        }
    }

    /// <summary>Keeps <paramref name="layers"/> from reclamation until <see cref="Unpin"/> (a build in progress uses them).</summary>
    private void Pin(IEnumerable<string> layers, List<string> pins)
    {
        lock (_collectGate)
        {
            PinLocked(layers, pins);
        }
    }

    private void PinLocked(IEnumerable<string> layers, List<string> pins)
    {
        foreach (var layer in layers)
        {
            _pins[layer] = _pins.GetValueOrDefault(layer) + 1;
            pins.Add(layer);
        }
    }

    private void Unpin(List<string> pins)
    {
        lock (_collectGate)
        {
            foreach (var layer in pins)
            {
                if (--_pins[layer] == 0)
                {
                    _pins.Remove(layer);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Image {ImageId} deleted; {LayerCount} unused layer(s) reclaimed")]
    private partial void LogDeleted(string imageId, int layerCount);
}
