using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace TypedSandbox.Server.Images;

/// <summary>
/// Unpacks one layer tarball (gzip, zstd or plain tar) into an empty directory in overlayfs form: OCI whiteouts
/// (<c>.wh.name</c>) become 0:0 character devices, opaque markers (<c>.wh..wh..opq</c>) become the
/// <c>trusted.overlay.opaque=y</c> xattr. Modes (set-id bits too), times, xattrs, symlinks, hard links and fifos are
/// kept; ownership is moved into the sandboxes' id range when one is given (id n becomes <c>HostId + n</c>), so nothing
/// of a layer is owned by host root. Device nodes (other than whiteouts), file capabilities (<c>security.capability</c>)
/// and <c>trusted.*</c> attributes are never created: a hostile layer gets no device, capability or host-root file onto
/// the host. Entries that would land outside the directory (<c>..</c>, paths through symlinks, hard links to outside
/// the layer) or whose owner is outside the range are refused with <see cref="ImageIntegrityException"/>.
/// </summary>
internal sealed class LayerUnpacker
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueWhiteout = ".wh..wh..opq";
    private const string XattrPaxPrefix = "SCHILY.xattr.";
    private static readonly byte[] OpaqueValue = "y"u8.ToArray();

    private readonly ILogger _logger;
    private readonly Isolation.SandboxIdRange? _ids;

    /// <summary>Creates an unpacker; with <paramref name="ids"/>, files are owned by that range instead of the tar's ids.</summary>
    public LayerUnpacker(ILogger logger, Isolation.SandboxIdRange? ids = null)
    {
        _logger = logger;
        _ids = ids;
    }

    /// <summary>Opens <paramref name="blobPath"/>, detects its compression from the magic bytes and unpacks it into <paramref name="targetDir"/>.</summary>
    public Task UnpackAsync(string blobPath, string targetDir, CancellationToken cancellationToken) =>
        UnpackAsync(blobPath, targetDir, budget: null, cancellationToken);

    /// <summary>Like <see cref="UnpackAsync(string, string, CancellationToken)"/>, charging every decompressed byte to <paramref name="budget"/>.</summary>
    public async Task UnpackAsync(string blobPath, string targetDir, UnpackBudget? budget, CancellationToken cancellationToken)
    {
        var file = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            var magic = new byte[4];
            var read = await file.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            file.Position = 0;
            Stream tar;
            if (read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            {
                tar = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
            }
            else if (read == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
            {
                tar = new ZstdSharp.DecompressionStream(file, leaveOpen: true);
            }
            else
            {
                tar = file;
            }

            // The bound applies to the decompressed stream: a few MB of gzip can inflate without end.
            if (budget is not null)
            {
                tar = budget.Wrap(tar);
            }

            await using (tar.ConfigureAwait(false))
            {
                await UnpackTarAsync(tar, targetDir, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Unpacks an uncompressed tar stream into <paramref name="targetDir"/> (which must exist).</summary>
    public async Task UnpackTarAsync(Stream tarStream, string targetDir, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(targetDir);
        var state = new UnpackState(root);
        if (_ids is not null)
        {
            NativeFileSystem.LChown(root, _ids.HostId, _ids.HostId);
        }

        var reader = new TarReader(tarStream, leaveOpen: true);
        await using (reader.ConfigureAwait(false))
        {
            try
            {
                while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    await ExtractEntryAsync(entry, state, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
            {
                throw new ImageIntegrityException($"The layer is not a readable tar archive: {e.Message}", e);
            }
        }

        // Directory times last: creating children changed them. Deepest first.
        foreach (var (path, time) in state.DirectoryTimes.OrderByDescending(d => d.Key.Length))
        {
            NativeFileSystem.SetTimes(path, time);
        }
    }

    private async Task ExtractEntryAsync(TarEntry entry, UnpackState state, CancellationToken cancellationToken)
    {
        var parts = SplitPath(entry.Name);
        if (parts.Length == 0)
        {
            if (entry.EntryType == TarEntryType.Directory)
            {
                ApplyMetadata(state.Root, entry, isSymlink: false);
                state.DirectoryTimes[state.Root] = entry.ModificationTime;
            }

            return;
        }

        var name = parts[^1];
        var parentDir = EnsureParentDirectories(state, parts);

        if (name == OpaqueWhiteout)
        {
            NativeFileSystem.SetXattr(parentDir, "trusted.overlay.opaque", OpaqueValue);
            return;
        }

        if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            if (name.StartsWith(WhiteoutPrefix + WhiteoutPrefix, StringComparison.Ordinal))
            {
                return; // Other AUFS metadata (e.g. .wh..wh.plnk) has no overlayfs meaning.
            }

            var hidden = name[WhiteoutPrefix.Length..];
            if (hidden is "" or "." or "..")
            {
                throw new ImageIntegrityException($"The layer holds an invalid whiteout '{entry.Name}'.");
            }

            var whiteoutPath = Path.Combine(parentDir, hidden);
            RemoveExisting(state, whiteoutPath, keepDirectory: false);
            NativeFileSystem.MakeCharDevice(whiteoutPath, 0, 0, 0);
            if (_ids is not null)
            {
                NativeFileSystem.LChown(whiteoutPath, _ids.HostId, _ids.HostId);
            }

            return;
        }

        var path = Path.Combine(parentDir, name);
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                RemoveExisting(state, path, keepDirectory: true);
                if (!Directory.Exists(path))
                {
                    Directory.CreateDirectory(path);
                }

                ApplyMetadata(path, entry, isSymlink: false);
                state.SafeDirectories.Add(path);
                state.DirectoryTimes[path] = entry.ModificationTime;
                break;

            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                RemoveExisting(state, path, keepDirectory: false);
                var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                await using (output.ConfigureAwait(false))
                {
                    if (entry.DataStream is { } data)
                    {
                        await data.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                    }
                }

                ApplyMetadata(path, entry, isSymlink: false);
                break;

            case TarEntryType.SymbolicLink:
                RemoveExisting(state, path, keepDirectory: false);
                File.CreateSymbolicLink(path, entry.LinkName);
                ApplyMetadata(path, entry, isSymlink: true);
                break;

            case TarEntryType.HardLink:
                var targetParts = SplitPath(entry.LinkName);
                if (targetParts.Length == 0)
                {
                    throw new ImageIntegrityException($"The layer's hard link '{entry.Name}' points at the layer root.");
                }

                var target = Path.Combine(EnsureParentDirectories(state, targetParts, create: false), targetParts[^1]);
                if (Directory.Exists(target) && !IsSymlink(target) || !File.Exists(target) && !IsSymlink(target))
                {
                    throw new ImageIntegrityException($"The layer's hard link '{entry.Name}' points at '{entry.LinkName}', which is not a file of the same layer.");
                }

                RemoveExisting(state, path, keepDirectory: false);
                NativeFileSystem.HardLink(target, path);
                break;

            case TarEntryType.Fifo:
                RemoveExisting(state, path, keepDirectory: false);
                NativeFileSystem.MakeFifo(path, (int)entry.Mode & 0xFFF);
                ApplyMetadata(path, entry, isSymlink: false);
                break;

            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                // The runtime gives every sandbox the few devices it may use; a device in a layer would be a door to host
                // hardware (a 0666 block device is the host's disk to whoever can reach it).
                ImageLog.DeviceNodeDropped(_logger, entry.Name, entry.EntryType);
                break;

            default:
                ImageLog.SkippedLayerEntry(_logger, entry.Name, entry.EntryType);
                break;
        }
    }

    private void ApplyMetadata(string path, TarEntry entry, bool isSymlink)
    {
        // chown before chmod: chown clears set-id bits.
        NativeFileSystem.LChown(path, HostId(entry.Uid, entry), HostId(entry.Gid, entry));
        if (!isSymlink)
        {
            NativeFileSystem.Chmod(path, (int)entry.Mode & 0xFFF);
        }

        if (entry is PaxTarEntry pax)
        {
            foreach (var (key, value) in pax.ExtendedAttributes)
            {
                if (!key.StartsWith(XattrPaxPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var xattr = key[XattrPaxPrefix.Length..];
                if (xattr.StartsWith("trusted.", StringComparison.Ordinal) || xattr == "security.capability")
                {
                    // Only the engine writes overlayfs metadata; file capabilities would grant privileges to whoever runs the file.
                    ImageLog.XattrDropped(_logger, entry.Name, xattr);
                    continue;
                }

                try
                {
                    NativeFileSystem.SetXattr(path, xattr, Encoding.UTF8.GetBytes(value));
                }
                catch (IOException e)
                {
                    ImageLog.XattrNotSet(_logger, xattr, path, e.Message);
                }
            }
        }

        if (entry.EntryType != TarEntryType.Directory)
        {
            NativeFileSystem.SetTimes(path, entry.ModificationTime);
        }
    }

    private int HostId(int id, TarEntry entry)
    {
        if (_ids is null)
        {
            return id;
        }

        if (id < 0 || id >= _ids.Size)
        {
            throw new ImageIntegrityException($"The layer entry '{entry.Name}' is owned by id {id}, outside the ids 0-{_ids.Size - 1} sandboxes map; such an image cannot run here.");
        }

        return _ids.ToHost(id);
    }

    /// <summary>Walks (and with <paramref name="create"/> makes) the parent directories, refusing any that is a symlink or not a directory.</summary>
    private static string EnsureParentDirectories(UnpackState state, string[] parts, bool create = true)
    {
        var current = state.Root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            current = Path.Combine(current, parts[i]);
            if (state.SafeDirectories.Contains(current))
            {
                continue;
            }

            var info = new FileInfo(current);
            if (!info.Exists && !Directory.Exists(current) && info.LinkTarget is null)
            {
                if (!create)
                {
                    throw new ImageIntegrityException($"The layer refers to '{string.Join('/', parts)}', whose parent directory is not in the layer.");
                }

                Directory.CreateDirectory(current);
            }
            else if (info.LinkTarget is not null)
            {
                throw new ImageIntegrityException($"The layer writes '{string.Join('/', parts)}' through the symlink '{string.Join('/', parts[..(i + 1)])}', which could escape the layer.");
            }
            else if (!Directory.Exists(current))
            {
                throw new ImageIntegrityException($"The layer writes '{string.Join('/', parts)}' below '{string.Join('/', parts[..(i + 1)])}', which is not a directory.");
            }

            state.SafeDirectories.Add(current);
        }

        return current;
    }

    private static void RemoveExisting(UnpackState state, string path, bool keepDirectory)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null || info.Exists)
        {
            info.Delete();
            return;
        }

        if (Directory.Exists(path) && !keepDirectory)
        {
            Directory.Delete(path, recursive: true);
            state.SafeDirectories.Clear();
        }
    }

    private static bool IsSymlink(string path) => new FileInfo(path).LinkTarget is not null;

    /// <summary>Splits a tar entry name into clean components; refuses names with <c>..</c>.</summary>
    internal static string[] SplitPath(string name)
    {
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        foreach (var part in parts)
        {
            if (part == ".." || part.Contains('\0', StringComparison.Ordinal))
            {
                throw new ImageIntegrityException($"The layer entry '{name}' would be written outside the layer directory.");
            }
        }

        return parts;
    }

    private sealed class UnpackState(string root)
    {
        public string Root { get; } = root;

        public HashSet<string> SafeDirectories { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, DateTimeOffset> DirectoryTimes { get; } = new(StringComparer.Ordinal);
    }
}
