namespace TypedSandbox.Server.Images;

/// <summary>
/// Resolves a path the way a sandbox's runtime will see it in an image's merged layers (overlayfs rules: the topmost
/// layer holding an entry wins, a 0:0 character device hides it, an opaque directory hides what lies below), following
/// the image's symlinks inside the image as the runtime does when it mounts (<c>/data -> /proc</c> makes a mount at
/// <c>/data</c> land on <c>/proc</c>). Only reads the layers, which no sandbox can change.
/// </summary>
internal static class ImagePaths
{
    private const int MaxSymlinks = 40; // Linux's own bound (ELOOP)
    private const int TypeMask = 0xF000, Directory = 0x4000, Symlink = 0xA000, CharDevice = 0x2000;
    private const string OpaqueXattr = "trusted.overlay.opaque";

    /// <summary>
    /// The canonical absolute path <paramref name="path"/> leads to in the image whose layers are
    /// <paramref name="layerDirs"/> (top first); null when its symlinks loop.
    /// </summary>
    public static string? Resolve(IReadOnlyList<string> layerDirs, string path)
    {
        var pending = new Stack<string>(Segments(path).Reverse());
        var resolved = new List<string>();
        var visible = layerDirs.ToList();
        var links = 0;
        while (pending.TryPop(out var segment))
        {
            if (segment == "..")
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }

                visible = VisibleLayers(layerDirs, resolved);
                continue;
            }

            var relative = string.Join('/', resolved.Append(segment));
            var (layer, mode) = TopEntry(visible, relative);
            if (layer is not null && (mode & TypeMask) == Symlink)
            {
                if (++links > MaxSymlinks)
                {
                    return null;
                }

                var target = new FileInfo(Path.Combine(layer, relative)).LinkTarget ?? "";
                foreach (var part in Segments(target).Reverse())
                {
                    pending.Push(part);
                }

                if (target.StartsWith('/'))
                {
                    resolved.Clear();
                    visible = layerDirs.ToList();
                }

                continue;
            }

            resolved.Add(segment);
            visible = layer is null ? [] : Below(visible, relative);
        }

        return "/" + string.Join('/', resolved);
    }

    private static IEnumerable<string> Segments(string path) => path.Split('/').Where(s => s.Length > 0 && s != ".");

    /// <summary>The layer whose entry at <paramref name="relative"/> the merged view shows, with its mode; null when none does.</summary>
    private static (string? Layer, int Mode) TopEntry(List<string> visible, string relative)
    {
        foreach (var layer in visible)
        {
            if (ModeOf(Path.Combine(layer, relative)) is not { } mode)
            {
                continue;
            }

            return (mode & TypeMask) == CharDevice ? (null, 0) : (layer, mode);
        }

        return (null, 0);
    }

    /// <summary>The layers (top first) whose directory at <paramref name="relative"/> shows in the merged directory.</summary>
    private static List<string> Below(List<string> visible, string relative)
    {
        var layers = new List<string>();
        foreach (var layer in visible)
        {
            var full = Path.Combine(layer, relative);
            if (ModeOf(full) is not { } mode)
            {
                continue;
            }

            if ((mode & TypeMask) != Directory)
            {
                break;
            }

            layers.Add(layer);
            if (NativeFileSystem.HasXattr(full, OpaqueXattr))
            {
                break;
            }
        }

        return layers;
    }

    /// <summary>The mode of an entry, not following it; null when there is none. Every directory above it in its layer is
    /// a real one (a layer is searched only below directories it has), so the host follows no symlink of the image.</summary>
    private static int? ModeOf(string full)
    {
        try
        {
            return NativeFileSystem.LStat(full).Mode;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static List<string> VisibleLayers(IReadOnlyList<string> layerDirs, List<string> resolved)
    {
        var visible = layerDirs.ToList();
        for (var i = 0; i < resolved.Count && visible.Count > 0; i++)
        {
            visible = Below(visible, string.Join('/', resolved.Take(i + 1)));
        }

        return visible;
    }
}
