using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Logging;

namespace TypedSandbox.Server.Images;

/// <summary>
/// Unpacks one layer tarball (gzip, zstd or plain tar) into an empty directory in overlayfs form: OCI whiteouts
/// (<c>.wh.name</c>) become 0:0 character devices, opaque markers (<c>.wh..wh..opq</c>) become the
/// <c>trusted.overlay.opaque=y</c> xattr. Modes, numeric ownership, times, xattrs, symlinks, hard links and device
/// nodes are kept. Entries that would land outside the directory (<c>..</c>, paths through symlinks, hard links to
/// outside the layer) are refused with <see cref="ImageIntegrityException"/>.
/// </summary>
internal sealed class LayerUnpacker
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueWhiteout = ".wh..wh..opq";
    private const string XattrPaxPrefix = "SCHILY.xattr.";
    private static readonly byte[] OpaqueValue = "y"u8.ToArray();

    private readonly ILogger _logger;

    public LayerUnpacker(ILogger logger) => _logger = logger;

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

            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                RemoveExisting(state, path, keepDirectory: false);
                var posix = (PosixTarEntry)entry;
                var mode = (int)entry.Mode & 0xFFF;
                if (entry.EntryType == TarEntryType.Fifo)
                {
                    NativeFileSystem.MakeFifo(path, mode);
                }
                else if (entry.EntryType == TarEntryType.CharacterDevice)
                {
                    NativeFileSystem.MakeCharDevice(path, mode, posix.DeviceMajor, posix.DeviceMinor);
                }
                else
                {
                    NativeFileSystem.MakeBlockDevice(path, mode, posix.DeviceMajor, posix.DeviceMinor);
                }

                ApplyMetadata(path, entry, isSymlink: false);
                break;

            default:
                ImageLog.SkippedLayerEntry(_logger, entry.Name, entry.EntryType);
                break;
        }
    }

    private void ApplyMetadata(string path, TarEntry entry, bool isSymlink)
    {
        // chown before chmod: chown clears set-id bits.
        NativeFileSystem.LChown(path, entry.Uid, entry.Gid);
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
                if (xattr.StartsWith("trusted.overlay.", StringComparison.Ordinal))
                {
                    continue; // Only the engine may write overlayfs metadata.
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
