namespace TypedSandbox.Server.Images;

/// <summary>Base images: pulled from a registry or bootstrapped from Debian's packages.</summary>
internal sealed partial class ImageStore
{
    private async Task<StoredImage> FromAsync(DockerfileInstruction instruction, IImageBuildLog log, CancellationToken cancellationToken)
    {
        var words = instruction.Arguments.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Where(w => !w.StartsWith("--platform=", StringComparison.Ordinal))
            .ToArray();
        if (words.Length is not (1 or 3) || (words.Length == 3 && !string.Equals(words[1], "AS", StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidImageDefinitionException($"'{instruction.Text}' must be 'FROM <image> [AS <name>]'.");
        }

        var from = words[0];
        if (from == "scratch")
        {
            return new StoredImage([], ImageConfig.Empty);
        }

        if (ImageIdPattern().IsMatch(from))
        {
            var stored = ImageStoreLayout.ReadJson<StoredImage>(_layout.ImagePath(from));
            if (stored is null || !LayersPresent(stored))
            {
                throw new ImageNotFoundException(from, $"Image '{from}' is not in this engine's image store; build it first.");
            }

            log.Write($"Using image {from} from the local store");
            return stored;
        }

        var reference = ImageReference.Parse(from);
        var debian = DebianBootstrap.Recognise(reference);
        if (debian is not null && _options.DebianBases == DebianBaseSource.BootstrapOnly)
        {
            return await BootstrapDebianAsync(debian, log, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await PullAsync(reference, log, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageException e) when (debian is not null && _options.DebianBases == DebianBaseSource.RegistryThenBootstrap
                                       && e is ImageRegistryUnavailableException or ImageNotFoundException)
        {
            log.Write($"Could not pull {reference} ({e.Message}); building it locally from Debian packages instead");
            return await BootstrapDebianAsync(debian, log, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<StoredImage> PullAsync(ImageReference reference, IImageBuildLog log, CancellationToken cancellationToken)
    {
        log.Write($"Resolving {reference}");
        var manifest = await _registry.ResolveAsync(reference, log, cancellationToken).ConfigureAwait(false);
        log.Write($"Pulling {reference} ({manifest.ManifestDigest}) from {manifest.Source}: {manifest.Layers.Count} layer(s)");

        OciImageConfigFile configFile;
        try
        {
            configFile = OciImageConfigFile.Parse(manifest.ConfigJson);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ImageIntegrityException($"The image config of '{reference}' is not valid JSON: {e.Message}", e);
        }

        var configPath = _layout.BlobPath(manifest.ConfigDigest);
        if (!File.Exists(configPath))
        {
            var temp = _layout.NewTempPath(".blob");
            await File.WriteAllBytesAsync(temp, manifest.ConfigJson, cancellationToken).ConfigureAwait(false);
            File.Move(temp, configPath, overwrite: true);
        }

        var layers = new List<string>();
        var budget = new UnpackBudget(_layout.Temp, _options.MaxImageBytes, reference.ToString());
        foreach (var layer in manifest.Layers)
        {
            layers.Add(await EnsurePulledLayerAsync(manifest.Source, reference, layer, budget, log, cancellationToken).ConfigureAwait(false));
        }

        layers.Reverse(); // Manifests list base first; overlayfs wants top first.
        return new StoredImage(layers, configFile.ToImageConfig());
    }

    private async Task<string> EnsurePulledLayerAsync(
        RegistrySource source, ImageReference reference, OciDescriptor layer, UnpackBudget budget, IImageBuildLog log, CancellationToken cancellationToken)
    {
        if (!ImageReference.IsSha256Digest(layer.Digest))
        {
            throw new ImageIntegrityException($"Layer digest '{layer.Digest}' of '{reference}' is not a sha256 digest.");
        }

        var layerName = "sha256-" + layer.Digest["sha256:".Length..];
        if (Directory.Exists(_layout.LayerDir(layerName)))
        {
            log.Write($"Layer {ImageReference.ShortDigest(layer.Digest)} already present");
            return layerName;
        }

        using (await _locks.AcquireAsync("layer:" + layerName, cancellationToken).ConfigureAwait(false))
        {
            if (Directory.Exists(_layout.LayerDir(layerName)))
            {
                log.Write($"Layer {ImageReference.ShortDigest(layer.Digest)} already present");
                return layerName;
            }

            budget.EnsureRoomForDownload(layer.Digest, layer.Size);
            log.Write($"Downloading layer {ImageReference.ShortDigest(layer.Digest)} ({ImageReference.FormatSize(layer.Size)})");
            var blob = _layout.NewTempPath(".blob");
            var unpackDir = _layout.NewTempPath();
            try
            {
                var file = new FileStream(blob, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                await using (file.ConfigureAwait(false))
                {
                    await _registry.DownloadBlobAsync(source, reference, layer, file, cancellationToken).ConfigureAwait(false);
                }

                log.Write($"Unpacking layer {ImageReference.ShortDigest(layer.Digest)}");
                Directory.CreateDirectory(unpackDir);
                await _unpacker.UnpackAsync(blob, unpackDir, budget, cancellationToken).ConfigureAwait(false);
                _layout.CommitLayer(unpackDir, layerName);
            }
            finally
            {
                ImageStoreLayout.DeletePath(blob);
                ImageStoreLayout.DeletePath(unpackDir);
            }

            return layerName;
        }
    }

    private async Task<StoredImage> BootstrapDebianAsync(DebianBootstrap.Target target, IImageBuildLog log, CancellationToken cancellationToken)
    {
        var layerName = target.LayerName;
        using (await _locks.AcquireAsync("layer:" + layerName, cancellationToken).ConfigureAwait(false))
        {
            if (Directory.Exists(_layout.LayerDir(layerName)))
            {
                log.Write($"{target} was built locally before; reusing it");
            }
            else
            {
                var work = _layout.NewTempPath();
                try
                {
                    Directory.CreateDirectory(work);
                    var rootfs = Path.Combine(work, "rootfs");
                    await _debian.BuildAsync(target, rootfs, log, cancellationToken).ConfigureAwait(false);
                    if (_options.SandboxIds is { } ids)
                    {
                        NativeFileSystem.ShiftOwnership(rootfs, ids);
                    }

                    _layout.CommitLayer(rootfs, layerName);
                }
                finally
                {
                    ImageStoreLayout.DeletePath(work);
                }
            }
        }

        return new StoredImage([layerName], DebianBootstrap.Config);
    }
}
