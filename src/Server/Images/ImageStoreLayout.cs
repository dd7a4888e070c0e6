using System.Globalization;
using System.Text.Json;

namespace TypedSandbox.Server.Images;

/// <summary>
/// The on-disk layout under the state directory:
/// <c>blobs/sha256/&lt;hex&gt;</c> (verified configs), <c>layers/&lt;name&gt;/</c> (unpacked layers, each complete once it exists),
/// <c>steps/&lt;key&gt;.json</c> (build step results), <c>images/&lt;id&gt;.json</c> (image records),
/// <c>tmp/&lt;pid&gt;-&lt;guid&gt;</c> (work in progress, moved into place by rename). Layers owned by a sandbox id range
/// live in <c>layers-u&lt;host id&gt;/</c> instead: a store unpacked for another range (or none, as before user
/// namespaces) is never mixed in; its steps and images miss the cache and are built again.
/// </summary>
internal sealed class ImageStoreLayout
{
    private const string UnshiftedLayers = "layers";

    public ImageStoreLayout(string stateDirectory, Isolation.SandboxIdRange? ids = null)
    {
        Root = Path.GetFullPath(stateDirectory);
        Blobs = Path.Combine(Root, "blobs", "sha256");
        Layers = Path.Combine(Root, ids is null ? UnshiftedLayers : string.Create(CultureInfo.InvariantCulture, $"layers-u{ids.HostId}"));
        Steps = Path.Combine(Root, "steps");
        Images = Path.Combine(Root, "images");
        Temp = Path.Combine(Root, "tmp");
        foreach (var dir in new[] { Blobs, Layers, Steps, Images, Temp })
        {
            Directory.CreateDirectory(dir);
        }
    }

    public string Root { get; }

    /// <summary>Layer directories of other id ranges (or unshifted ones), which this store no longer uses.</summary>
    public IEnumerable<string> StaleLayerDirectories() =>
        Directory.EnumerateDirectories(Root, "layers*").Where(d => !string.Equals(d, Layers, StringComparison.Ordinal)
            && (Path.GetFileName(d) == UnshiftedLayers || Path.GetFileName(d).StartsWith("layers-u", StringComparison.Ordinal)));

    public string Blobs { get; }

    public string Layers { get; }

    public string Steps { get; }

    public string Images { get; }

    public string Temp { get; }

    public string LayerDir(string layerName) => Path.Combine(Layers, layerName);

    public string BlobPath(string digest) => Path.Combine(Blobs, digest["sha256:".Length..]);

    public string StepPath(string stepKey) => Path.Combine(Steps, stepKey + ".json");

    public string ImagePath(string imageId) => Path.Combine(Images, imageId + ".json");

    /// <summary>A fresh path under <c>tmp/</c> named after this process, so a restart can tell abandoned work apart.</summary>
    public string NewTempPath(string suffix = "") =>
        Path.Combine(Temp, string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{Guid.NewGuid():N}{suffix}"));

    /// <summary>Deletes temp entries left by processes that no longer run (a crash mid-pull or mid-build).</summary>
    public void RemoveAbandonedTemp()
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(Temp))
        {
            var name = Path.GetFileName(entry);
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && int.TryParse(name[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Directory.Exists($"/proc/{pid}"))
            {
                continue;
            }

            DeletePath(entry);
        }
    }

    /// <summary>Moves a finished directory into <c>layers/</c>; when another builder won the race, keeps theirs.</summary>
    public string CommitLayer(string tempDir, string layerName)
    {
        var target = LayerDir(layerName);
        try
        {
            Directory.Move(tempDir, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            DeletePath(tempDir);
        }

        return target;
    }

    public static T? ReadJson<T>(string path)
        where T : class
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path));
        }
        catch (JsonException)
        {
            return null; // A torn write cannot happen (rename), but a hand-edited file must not break the engine.
        }
    }

    /// <summary>Writes JSON durably: temp file, fsync of the file system (which also flushes freshly unpacked layers), rename.</summary>
    public void WriteJsonDurably<T>(string path, T value)
    {
        var temp = NewTempPath(".json");
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, value);
            stream.Flush(flushToDisk: true);
            NativeFileSystem.SyncFileSystem(stream.SafeFileHandle);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Deletes a file or a directory tree of any depth (a RUN step's upper directory is shaped by sandbox code).</summary>
    public static void DeletePath(string path)
    {
        if (Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null)
        {
            Isolation.TreeRemoval.Delete(path);
        }
        else if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }
    }
}

/// <summary>A build state as persisted: layer names (top first) and the config.</summary>
internal sealed record StoredImage(IReadOnlyList<string> Layers, ImageConfig Config);
