using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Images;

/// <summary>RUN and WORKDIR steps: run in a build sandbox, committed as layers.</summary>
internal sealed partial class ImageStore
{
    private async Task<StoredImage> RunAsync(
        string stepKey, DockerfileInstruction instruction, StoredImage state, IReadOnlyDictionary<string, string>? buildSecrets, IImageBuildLog log,
        CancellationToken cancellationToken)
    {
        var work = NewStepScratch();
        var upper = Path.Combine(work, "upper");
        var overlayWork = Path.Combine(work, "work");
        try
        {
            Directory.CreateDirectory(upper);
            Directory.CreateDirectory(overlayWork);
            var env = state.Config.GetEnv("PATH") is null ? state.Config.WithEnv("PATH", DebianBootstrap.DefaultPath["PATH=".Length..]).Env : state.Config.Env;
            // Secrets come last so they win over the image's own variables; they reach the step only, never the config.
            env = [.. env, .. (buildSecrets ?? new Dictionary<string, string>()).Select(p => p.Key + "=" + p.Value)];
            var request = new BuildStepRequest(
                state.Layers.Select(_layout.LayerDir).ToList(),
                upper,
                overlayWork,
                instruction.CommandArgv(),
                env,
                state.Config.WorkingDir ?? "/",
                state.Config.User);
            var tail = new TailLog(log, LogTailLines);
            var exitCode = await _executor!.RunAsync(request, tail, cancellationToken).ConfigureAwait(false);
            if (exitCode != 0)
            {
                var lines = tail.Lines();
                throw new ImageBuildFailedException(instruction.Text, exitCode, lines,
                    $"Image build step '{instruction.Text}' failed with exit code {exitCode}" +
                    (lines.Count > 0 ? $"; last output:\n{string.Join("\n", lines.TakeLast(FailureOutputLines).Select(Shorten))}" : "."));
            }

            if (!Directory.EnumerateFileSystemEntries(upper).Any())
            {
                log.Write(" ---> No file system changes");
                return state;
            }

            // Unique per run: a forced rebuild must not collide with (or reuse) the layer of an earlier run.
            var layerName = "run-" + stepKey[..24] + "-" + Guid.NewGuid().ToString("N")[..8];
            await CommitStepLayerAsync(upper, layerName, cancellationToken).ConfigureAwait(false);
            return state with { Layers = [layerName, .. state.Layers] };
        }
        finally
        {
            // A step's tree has the shape its commands gave it, at any depth.
            await Isolation.TreeRemoval.DeleteAsync(work, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>A RUN step's scratch directory: size-limited when the store has <see cref="ImageStoreOptions.BuildScratch"/>.</summary>
    private string NewStepScratch()
    {
        if (_options.BuildScratch is not { } scratch)
        {
            return _layout.NewTempPath();
        }

        var work = Path.Combine(scratch.BuildsDirectory, "run-" + ObjectIds.Random(16));
        scratch.CreateLimitedDirectory(work, _options.BuildStepLimitBytes);
        return work;
    }

    /// <summary>Makes a finished step's upper directory a layer: moved when it is in the store's temp directory, copied
    /// (whiteouts, xattrs, owners and links kept) out of the size-limited storage, another file system.</summary>
    private async Task CommitStepLayerAsync(string upper, string layerName, CancellationToken cancellationToken)
    {
        if (_options.BuildScratch is null)
        {
            _layout.CommitLayer(upper, layerName);
            return;
        }

        var copy = _layout.NewTempPath();
        try
        {
            var result = await Isolation.HostCommand.RunAsync("cp", ["-a", "--", upper, copy], cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                // cp says one line per entry it could not copy (thousands, each a long path, for a deep tree).
                var first = result.Stderr.Trim().Split('\n')[0];
                var reason = result.Stderr.Contains("File name too long", StringComparison.Ordinal)
                    ? "a path in them is longer than the host's limit of 4096 bytes (File name too long)"
                    : first.Length > 300 ? first[..300] + "…" : first;
                throw new IOException($"Copying the step's changes into the image store failed (cp exit code {result.ExitCode}): {reason}");
            }

            _layout.CommitLayer(copy, layerName);
        }
        finally
        {
            await Isolation.TreeRemoval.DeleteAsync(copy, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>As Docker does for WORKDIR, adds a one-directory layer when no layer has <paramref name="path"/> yet.</summary>
    private StoredImage WithDirectory(string stepKey, StoredImage state, string path)
    {
        var parts = LayerUnpacker.SplitPath(path);
        if (parts.Length == 0 || state.Layers.Any(l => Directory.Exists(Path.Combine([_layout.LayerDir(l), .. parts]))))
        {
            return state;
        }

        var work = _layout.NewTempPath();
        try
        {
            var current = work;
            foreach (var part in parts.Prepend(""))
            {
                current = Path.Combine(current, part);
                Directory.CreateDirectory(current);
                if (_options.SandboxIds is { } ids)
                {
                    NativeFileSystem.LChown(current, ids.HostId, ids.HostId);
                }

                NativeFileSystem.Chmod(current, 0b111_101_101); // 0755 whatever the umask.
            }

            var layerName = "workdir-" + stepKey[..32];
            _layout.CommitLayer(work, layerName);
            return state with { Layers = [layerName, .. state.Layers] };
        }
        finally
        {
            ImageStoreLayout.DeletePath(work);
        }
    }
}
