using System.Collections.Immutable;
using TypedSandbox.Errors;
using TypedSandbox.Images;
using TypedSandbox.Validation;

namespace TypedSandbox;

/// <summary>
/// A container image definition: a registry reference (or an existing image id) plus build steps that render to
/// Dockerfile commands. Images are immutable: every build step returns a new image. The server builds an image the
/// first time a sandbox uses it (or on <see cref="BuildAsync"/>) and caches it by definition.
/// </summary>
public sealed class Image
{
    private readonly ImageService? _service;
    private readonly object _gate = new();
    private string? _id;

    internal Image(ImageService? service, string? id, string? baseReference, string? baseImageId, ImmutableArray<string> steps)
    {
        _service = service;
        _id = id;
        BaseReference = baseReference;
        BaseImageId = baseImageId;
        Steps = steps;
    }

    /// <summary>The image id once the image is built (or when it was created from an id); otherwise null.</summary>
    public string? ImageId
    {
        get { lock (_gate) { return _id; } }
    }

    /// <summary>The registry reference this image starts from, e.g. <c>python:3.13-slim</c>; null when it starts
    /// from an existing image id.</summary>
    public string? BaseReference { get; }

    /// <summary>The id of the existing image this image builds on, when it does not start from a registry reference.</summary>
    public string? BaseImageId { get; }

    internal ImmutableArray<string> Steps { get; }

    /// <summary>The Dockerfile commands the server builds for this image (null for an image that only has an id).</summary>
    public IReadOnlyList<string>? DockerfileCommands => RenderDockerfileCommands();

    /// <summary>Adds <c>RUN</c> steps, each run by the image's shell.</summary>
    /// <param name="commands">Shell command lines.</param>
    public Image RunCommands(params string[] commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        foreach (var command in commands)
        {
            if (string.IsNullOrWhiteSpace(command))
            {
                throw new InvalidArgumentException("RunCommands needs non-empty command lines.");
            }
        }
        return WithSteps(commands.Select(c => "RUN " + c));
    }

    /// <summary>Installs Debian packages with <c>apt-get</c>.</summary>
    /// <param name="packages">Package names (optionally <c>name=version</c>).</param>
    public Image AptInstall(params string[] packages)
    {
        RequireWords(packages, nameof(AptInstall), "package");
        return WithSteps(["RUN apt-get update", "RUN apt-get install -y " + ShellQuoting.Join(packages)]);
    }

    /// <summary>Installs Python packages with <c>pip</c>.</summary>
    /// <param name="packages">Requirement specifiers, e.g. <c>numpy</c> or <c>requests&gt;=2.31</c>.</param>
    public Image PipInstall(params string[] packages)
    {
        RequireWords(packages, nameof(PipInstall), "package");
        return WithSteps(["RUN python -m pip install " + ShellQuoting.Join(packages)]);
    }

    /// <summary>Sets environment variables for later steps and for sandboxes using the image.</summary>
    /// <param name="variables">Names (letters, digits and '_', not starting with a digit) and values.</param>
    public Image Env(IReadOnlyDictionary<string, string> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        if (variables.Count == 0)
        {
            return this;
        }
        foreach (var name in variables.Keys)
        {
            EnsureEnvironmentVariableName(name);
        }
        return WithSteps(variables.OrderBy(v => v.Key, StringComparer.Ordinal)
            .Select(v => $"ENV {v.Key}={ShellQuoting.Quote(v.Value ?? "")}"));
    }

    /// <summary>Sets one environment variable.</summary>
    /// <param name="name">The variable's name.</param>
    /// <param name="value">Its value.</param>
    public Image Env(string name, string value) => Env(new Dictionary<string, string> { [name] = value });

    /// <summary>Sets the working directory for later steps and for sandboxes using the image.</summary>
    /// <param name="path">An absolute path.</param>
    public Image Workdir(string path)
    {
        Rules.Enforce(Paths.CheckWorkdir(path, "Image workdir"));
        return WithSteps(["WORKDIR " + ShellQuoting.Quote(path)]);
    }

    /// <summary>Adds raw Dockerfile commands (<c>RUN</c>, <c>ENV</c>, <c>WORKDIR</c>, …) after the base.</summary>
    /// <param name="commands">Dockerfile lines; <c>FROM</c> is not allowed here.</param>
    public Image AddDockerfileCommands(params string[] commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        foreach (var command in commands)
        {
            if (string.IsNullOrWhiteSpace(command))
            {
                throw new InvalidArgumentException("Dockerfile commands must not be empty.");
            }
            if (command.TrimStart().StartsWith("FROM ", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidArgumentException($"'{command}': the base comes from the image itself; FROM cannot be added.");
            }
        }
        return WithSteps(commands);
    }

    /// <summary>Builds the image in <paramref name="app"/> (a no-op when it already has an id), streaming build logs.</summary>
    /// <param name="app">The app the build belongs to.</param>
    /// <param name="log">Receives build log text as the server produces it.</param>
    /// <param name="cancellationToken">Cancels the wait (the server may finish the build anyway).</param>
    /// <returns>This image, now with an <see cref="ImageId"/>.</returns>
    /// <exception cref="ImageBuildException">The build failed, was terminated or timed out.</exception>
    public async Task<Image> BuildAsync(App app, IProgress<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (ImageId is not null)
        {
            return this;
        }
        var service = _service ?? throw new InvalidOperationException("This image is not attached to a client.");
        var id = await service.BuildAsync(this, app, log, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _id ??= id;
        }
        return this;
    }

    internal IReadOnlyList<string>? RenderDockerfileCommands()
    {
        if (BaseReference is null && Steps.IsEmpty)
        {
            return null;
        }
        var from = BaseReference is not null ? "FROM " + BaseReference : "FROM base";
        return [from, .. Steps];
    }

    /// <inheritdoc/>
    public override string ToString() => ImageId is { } id ? $"Image {id}" : $"Image {BaseReference ?? BaseImageId} (+{Steps.Length} steps, not built)";

    private Image WithSteps(IEnumerable<string> steps)
    {
        // Steps on an image that already exists build a new layer on top of it ("FROM base").
        if (ImageId is { } id)
        {
            return new Image(_service, null, null, id, [.. steps]);
        }
        return new Image(_service, null, BaseReference, BaseImageId, Steps.AddRange(steps));
    }

    private static void RequireWords(string[] words, string method, string what)
    {
        ArgumentNullException.ThrowIfNull(words);
        if (words.Length == 0)
        {
            throw new InvalidArgumentException($"{method} needs at least one {what}.");
        }
        foreach (var word in words)
        {
            if (string.IsNullOrWhiteSpace(word))
            {
                throw new InvalidArgumentException($"{method}: a {what} name must not be empty.");
            }
        }
    }

    internal static void EnsureEnvironmentVariableName(string name)
    {
        Rules.Enforce(EnvironmentKeys.Check(name));
    }
}
