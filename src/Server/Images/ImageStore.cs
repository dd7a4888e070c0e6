using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace TypedSandbox.Server.Images;

/// <summary>
/// Turns image definitions (Dockerfile commands as Modal sends them) into stacks of unpacked layers under the state
/// directory. <c>FROM</c> pulls with the OCI distribution protocol (or builds Debian bases locally, or reuses an image
/// built earlier); <c>ENV</c>, <c>WORKDIR</c>, <c>USER</c>, <c>CMD</c>, <c>ENTRYPOINT</c> change the config; <c>RUN</c> runs
/// through an <see cref="IBuildStepExecutor"/> and its upper dir becomes a layer. Every step is cached by the hash of
/// (parent step, instruction), so a second build of a definition does no network or build work. Safe for concurrent
/// callers: the same step or layer is produced once.
/// </summary>
internal sealed partial class ImageStore : IDisposable
{
    private const string HashDomain = "typedsandbox-image-v1";
    private const int LogTailLines = 20;
    private const int FailureOutputLines = 10;
    private const int FailureLineChars = 1000;

    private readonly ImageStoreOptions _options;
    private readonly IBuildStepExecutor? _executor;
    private readonly ILogger<ImageStore> _logger;
    private readonly ImageStoreLayout _layout;
    private readonly RegistryClient _registry;
    private readonly LayerUnpacker _unpacker;
    private readonly DebianBootstrap _debian;
    private readonly KeyedLock _locks = new();

    /// <summary>Opens (or creates) the store under <see cref="ImageStoreOptions.StateDirectory"/>.</summary>
    /// <param name="options">State directory, mirrors and other settings.</param>
    /// <param name="executor">Runs <c>RUN</c> steps; without one, definitions with <c>RUN</c> are refused.</param>
    /// <param name="logger">Engine log.</param>
    public ImageStore(ImageStoreOptions options, IBuildStepExecutor? executor, ILogger<ImageStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _executor = executor;
        _logger = logger;
        _layout = new ImageStoreLayout(options.StateDirectory, options.SandboxIds);
        _layout.RemoveAbandonedTemp();
        if (options.BuildScratch is { } scratch)
        {
            // No build survives its engine: what a previous run's steps were writing is left over.
            foreach (var abandoned in Directory.GetDirectories(scratch.BuildsDirectory))
            {
                Isolation.TreeRemoval.Delete(abandoned);
            }
        }
        if (options.SandboxIds is not null)
        {
            // Layers unpacked for another id range (or before user namespaces) would show sandboxes foreign owners.
            foreach (var stale in _layout.StaleLayerDirectories())
            {
                ImageLog.StaleLayersRemoved(logger, stale);
                ImageStoreLayout.DeletePath(stale);
            }
        }

        _registry = new RegistryClient(
            options.RegistryMirrors, options.Platform, options.ConnectTimeout, new RegistryAddressPolicy(options.RegistryAllowedNetworks), logger);
        _unpacker = new LayerUnpacker(logger, options.SandboxIds);
        _debian = new DebianBootstrap(options.MmdebstrapPath, options.DebianMirror);
        ReclaimDeferred();
    }

    /// <summary>The image ID of a definition: <c>im-</c> and 24 hex digits of a SHA-256 over the normalized commands.</summary>
    public static string ComputeImageId(IReadOnlyList<string> dockerfileCommands) => ComputeImageId(dockerfileCommands, buildSecrets: null);

    /// <summary>
    /// The image ID of a definition whose <c>RUN</c> steps see <paramref name="buildSecrets"/> as environment variables
    /// (Modal's image secrets and <c>env</c>): the values take part in the ID only as a digest.
    /// </summary>
    public static string ComputeImageId(IReadOnlyList<string> dockerfileCommands, IReadOnlyDictionary<string, string>? buildSecrets)
    {
        var instructions = DockerfileInstruction.ParseAll(dockerfileCommands);
        return ComputeImageId(instructions, SecretsDigest(buildSecrets));
    }

    private static string ComputeImageId(IReadOnlyList<DockerfileInstruction> instructions, string? secretsDigest)
    {
        var text = new StringBuilder(HashDomain);
        foreach (var instruction in instructions)
        {
            text.Append('\n').Append(instruction.Text.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(instruction.Text);
        }

        if (secretsDigest is not null && instructions.Any(i => i.Keyword == DockerfileKeyword.Run))
        {
            text.Append("\nsecrets:").Append(secretsDigest);
        }

        return "im-" + Hash(text.ToString())[..24];
    }

    /// <summary>A digest of build secrets (null when there are none), so a changed value is a different build.</summary>
    private static string? SecretsDigest(IReadOnlyDictionary<string, string>? buildSecrets)
    {
        if (buildSecrets is null || buildSecrets.Count == 0)
        {
            return null;
        }

        var text = new StringBuilder(HashDomain).Append("\nbuild-secrets");
        foreach (var (key, value) in buildSecrets.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append('\n').Append(key.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(key)
                .Append('=').Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value);
        }

        return Hash(text.ToString());
    }

    /// <summary>Returns the image built earlier under <paramref name="imageId"/> (also after an engine restart), or <see langword="null"/>.</summary>
    public ImageRecord? TryGet(string imageId)
    {
        ArgumentNullException.ThrowIfNull(imageId);
        if (!ImageIdPattern().IsMatch(imageId))
        {
            return null;
        }

        var stored = ImageStoreLayout.ReadJson<StoredImage>(_layout.ImagePath(imageId));
        return stored is not null && LayersPresent(stored) ? ToRecord(imageId, stored) : null;
    }

    /// <summary>
    /// Builds the image <paramref name="dockerfileCommands"/> define, or returns it from the store. Progress lines go to
    /// <paramref name="log"/>.
    /// </summary>
    /// <exception cref="InvalidImageDefinitionException">Bad syntax or an unsupported instruction (INVALID_ARGUMENT).</exception>
    /// <exception cref="ImageNotFoundException">The base image does not exist (NOT_FOUND).</exception>
    /// <exception cref="ImageRegistryUnauthorizedException">The registry refused anonymous access (PERMISSION_DENIED).</exception>
    /// <exception cref="ImageRegistryUnavailableException">The registry could not be reached (UNAVAILABLE).</exception>
    /// <exception cref="ImageIntegrityException">Content did not match its digest or a layer was unsafe (DATA_LOSS).</exception>
    /// <exception cref="ImageBuildFailedException">A <c>RUN</c> step (or a local base build) failed (FAILED_PRECONDITION).</exception>
    public Task<ImageRecord> GetOrBuildAsync(IReadOnlyList<string> dockerfileCommands, IImageBuildLog log, CancellationToken cancellationToken) =>
        GetOrBuildAsync(dockerfileCommands, log, forceBuild: false, cancellationToken);

    /// <summary>
    /// Like <see cref="GetOrBuildAsync(IReadOnlyList{string}, IImageBuildLog, CancellationToken)"/>; with
    /// <paramref name="forceBuild"/> (Modal's <c>force_build</c>) every step runs again and the tag in <c>FROM</c> is
    /// resolved again (layers already in the store by digest are still reused).
    /// </summary>
    public Task<ImageRecord> GetOrBuildAsync(IReadOnlyList<string> dockerfileCommands, IImageBuildLog log, bool forceBuild, CancellationToken cancellationToken) =>
        GetOrBuildAsync(dockerfileCommands, log, forceBuild, buildSecrets: null, cancellationToken);

    /// <summary>
    /// Like <see cref="GetOrBuildAsync(IReadOnlyList{string}, IImageBuildLog, bool, CancellationToken)"/>; every
    /// <c>RUN</c> step also sees <paramref name="buildSecrets"/> as environment variables (they are not kept in the
    /// image's config, and take part in the cache keys only as a digest).
    /// </summary>
    public async Task<ImageRecord> GetOrBuildAsync(
        IReadOnlyList<string> dockerfileCommands, IImageBuildLog log, bool forceBuild, IReadOnlyDictionary<string, string>? buildSecrets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var instructions = DockerfileInstruction.ParseAll(dockerfileCommands);
        var secretsDigest = SecretsDigest(buildSecrets);
        var imageId = ComputeImageId(instructions, secretsDigest);
        if (!forceBuild && TryGet(imageId) is { } cached)
        {
            log.Write($"Image {imageId} is already built");
            return cached;
        }

        if (_executor is null && instructions.FirstOrDefault(i => i.Keyword == DockerfileKeyword.Run) is { } run)
        {
            throw new InvalidOperationException($"'{run.Text}' needs a build step executor, and this image store was created without one.");
        }

        using (await _locks.AcquireAsync("image:" + imageId, cancellationToken).ConfigureAwait(false))
        {
            if (!forceBuild && TryGet(imageId) is { } built)
            {
                log.Write($"Image {imageId} is already built");
                return built;
            }

            var stepKey = HashDomain;
            StoredImage? state = null;
            var pins = new List<string>();
            try
            {
                for (var i = 0; i < instructions.Count; i++)
                {
                    var instruction = instructions[i];
                    var secretsPart = secretsDigest is not null && instruction.Keyword == DockerfileKeyword.Run ? "\nsecrets:" + secretsDigest : "";
                    stepKey = Hash(stepKey + "\n" + instruction.Text + secretsPart);
                    log.Write($"Step {i + 1}/{instructions.Count}: {instruction.Text}");
                    state = await GetOrRunStepAsync(stepKey, instruction, state, buildSecrets, log, forceBuild, pins, cancellationToken).ConfigureAwait(false);
                }

                _layout.WriteJsonDurably(_layout.ImagePath(imageId), state!);
            }
            finally
            {
                Unpin(pins);
            }

            log.Write($"Built image {imageId}");
            return ToRecord(imageId, state!);
        }
    }

    /// <summary>
    /// Registers a sandbox's filesystem changes as a new image on top of <paramref name="parent"/> (Modal's filesystem
    /// snapshot). <paramref name="upperDir"/> (an unmounted overlayfs upper dir on the state directory's file system) is
    /// moved into the store. The new image can be used as <c>FROM im-…</c>.
    /// </summary>
    public Task<ImageRecord> CommitSnapshotAsync(ImageRecord parent, string upperDir, ImageConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(upperDir);
        ArgumentNullException.ThrowIfNull(config);
        cancellationToken.ThrowIfCancellationRequested();
        var stored = ImageStoreLayout.ReadJson<StoredImage>(_layout.ImagePath(parent.ImageId))
            ?? throw new ImageNotFoundException(parent.ImageId, $"Image '{parent.ImageId}' is not in this engine's image store.");
        var imageId = "im-" + Hash(HashDomain + "\nsnapshot\n" + parent.ImageId + "\n" + Guid.NewGuid().ToString("N"))[..24];
        var layerName = "snapshot-" + imageId;
        try
        {
            Directory.Move(upperDir, _layout.LayerDir(layerName));
        }
        catch (IOException e)
        {
            throw new IOException($"Cannot move the snapshot's upper dir '{upperDir}' into the image store (it must be on the same file system as '{_layout.Root}'): {e.Message}", e);
        }

        var snapshot = new StoredImage([layerName, .. stored.Layers], config);
        _layout.WriteJsonDurably(_layout.ImagePath(imageId), snapshot);
        return Task.FromResult(ToRecord(imageId, snapshot));
    }

    /// <summary>Closes the registry client.</summary>
    public void Dispose() => _registry.Dispose();

    private async Task<StoredImage> GetOrRunStepAsync(
        string stepKey, DockerfileInstruction instruction, StoredImage? parent, IReadOnlyDictionary<string, string>? buildSecrets, IImageBuildLog log,
        bool forceBuild, List<string> pins, CancellationToken cancellationToken)
    {
        var path = _layout.StepPath(stepKey);
        if (!forceBuild && ReadStepPinned(path, pins) is { } hit)
        {
            log.Write(" ---> Using cache");
            return hit;
        }

        using (await _locks.AcquireAsync("step:" + stepKey, cancellationToken).ConfigureAwait(false))
        {
            if (!forceBuild && ReadStepPinned(path, pins) is { } raced)
            {
                log.Write(" ---> Using cache");
                return raced;
            }

            var result = await RunStepAsync(stepKey, instruction, parent, buildSecrets, log, cancellationToken).ConfigureAwait(false);
            Pin(result.Layers, pins);
            _layout.WriteJsonDurably(path, result);
            return result;
        }
    }

    private async Task<StoredImage> RunStepAsync(
        string stepKey, DockerfileInstruction instruction, StoredImage? parent, IReadOnlyDictionary<string, string>? buildSecrets, IImageBuildLog log,
        CancellationToken cancellationToken)
    {
        if (instruction.Keyword == DockerfileKeyword.From)
        {
            return await FromAsync(instruction, log, cancellationToken).ConfigureAwait(false);
        }

        var state = parent!;
        var config = state.Config;
        switch (instruction.Keyword)
        {
            case DockerfileKeyword.Env:
                foreach (var (name, value) in instruction.EnvPairs(config))
                {
                    config = config.WithEnv(name, value);
                }

                return state with { Config = config };

            case DockerfileKeyword.Workdir:
                var dir = DockerfileInstruction.Expand(instruction.Arguments, config);
                var workdir = dir.StartsWith('/') ? dir : Path.Combine(config.WorkingDir ?? "/", dir);
                return WithDirectory(stepKey, state with { Config = config with { WorkingDir = workdir } }, workdir);

            case DockerfileKeyword.User:
                return state with { Config = config with { User = DockerfileInstruction.Expand(instruction.Arguments, config) } };

            case DockerfileKeyword.Entrypoint:
                // As in Docker, a new entrypoint drops the command inherited with the base image.
                return state with { Config = config with { Entrypoint = instruction.CommandArgv(), Cmd = null } };

            case DockerfileKeyword.Cmd:
                return state with { Config = config with { Cmd = instruction.CommandArgv() } };

            case DockerfileKeyword.Run:
                return await RunAsync(stepKey, instruction, state, buildSecrets, log, cancellationToken).ConfigureAwait(false);

            default:
                return state; // LABEL, EXPOSE, MAINTAINER, STOPSIGNAL: recorded in the image ID only.
        }
    }

    /// <summary>A log line as the failure message quotes it: the message goes to the client whole, the log keeps the rest.</summary>
    private static string Shorten(string line) => line.Length <= FailureLineChars ? line : line[..FailureLineChars] + "…";

    private bool LayersPresent(StoredImage stored) => stored.Layers.All(l => Directory.Exists(_layout.LayerDir(l)));

    private ImageRecord ToRecord(string imageId, StoredImage stored) =>
        new(imageId, stored.Layers.Select(_layout.LayerDir).ToList(), stored.Config);

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [GeneratedRegex("^im-[A-Za-z0-9]{1,64}$")]
    private static partial Regex ImageIdPattern();

    /// <summary>Forwards lines and keeps the last few for the failure message.</summary>
    private sealed class TailLog(IImageBuildLog inner, int capacity) : IImageBuildLog
    {
        private readonly Queue<string> _lines = new();

        public void Write(string line)
        {
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > capacity)
                {
                    _lines.Dequeue();
                }
            }

            inner.Write(line);
        }

        public IReadOnlyList<string> Lines()
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }
}
