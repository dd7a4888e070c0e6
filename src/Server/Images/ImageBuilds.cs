using System.Collections.Concurrent;
using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Images;

/// <summary>
/// Image builds in flight and done: starts a build the first time an image definition is asked for, lets clients
/// follow its log from any position, and hands finished images to sandbox creation.
/// </summary>
internal sealed partial class ImageBuilds(ImageStore store, TimeProvider time, ILogger<ImageBuilds> logger) : IReadyImages, IAsyncDisposable
{
    /// <summary>How long a finished build's log stays readable by late joiners before it is freed.</summary>
    public static readonly TimeSpan LogRetention = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, ImageBuildJob> _jobs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Returns the id of the image the commands define, starting its build unless it is built or building.</summary>
    public ImageBuildJob Start(IReadOnlyList<string> dockerfileCommands, bool forceBuild) => Start(dockerfileCommands, forceBuild, buildSecrets: null);

    /// <summary>
    /// Like <see cref="Start(IReadOnlyList{string}, bool)"/>, with environment variables every <c>RUN</c> step sees
    /// (the image's secrets and <c>env</c>).
    /// </summary>
    public ImageBuildJob Start(IReadOnlyList<string> dockerfileCommands, bool forceBuild, IReadOnlyDictionary<string, string>? buildSecrets)
    {
        if (dockerfileCommands.Count == 0)
        {
            throw EngineException.Invalid("The image definition has no commands; it must start with 'FROM <image>'.");
        }

        var imageId = ImageStore.ComputeImageId(dockerfileCommands, buildSecrets);
        if (!forceBuild && _jobs.TryGetValue(imageId, out var running) && running.Status != ImageBuildStatus.Failed)
        {
            return running;
        }

        if (!forceBuild && store.TryGet(imageId) is { } built)
        {
            return _jobs.GetOrAdd(imageId, id => ImageBuildJob.Finished(id, built));
        }

        var job = new ImageBuildJob(imageId);
        _jobs[imageId] = job;
        _ = RunAsync(job, dockerfileCommands, forceBuild, buildSecrets);
        return job;
    }

    /// <summary>The build job of an image, including images built before an engine restart.</summary>
    public ImageBuildJob? Find(string imageId)
    {
        if (_jobs.TryGetValue(imageId, out var job))
        {
            return job;
        }

        return store.TryGet(imageId) is { } built ? _jobs.GetOrAdd(imageId, id => ImageBuildJob.Finished(id, built)) : null;
    }

    /// <summary>The built image, waiting for its build if needed; fails if it is unknown or its build failed.</summary>
    public async Task<ImageRecord> GetReadyAsync(string imageId, CancellationToken cancellationToken)
    {
        var job = Find(imageId) ?? throw EngineException.NotFound($"Could not find image with ID {imageId} (never built here, or deleted)");
        await job.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        return job.Image ?? throw EngineException.Precondition($"Image '{imageId}' failed to build: {job.Error}");
    }

    /// <summary>
    /// Deletes a built image (Modal's <c>ImageDelete</c>): it can no longer start sandboxes, and its layers that no other
    /// image uses are reclaimed. Fails with NOT_FOUND when there is no such image, FAILED_PRECONDITION while it builds.
    /// </summary>
    public async Task DeleteAsync(string imageId, CancellationToken cancellationToken)
    {
        if (_jobs.TryGetValue(imageId, out var job) && !job.Completion.IsCompleted)
        {
            throw EngineException.Precondition($"Image {imageId} is still building; wait for the build to end before deleting it.");
        }

        _jobs.TryRemove(imageId, out _);
        try
        {
            await store.DeleteAsync(imageId, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageNotFoundException)
        {
            throw EngineException.NotFound($"Could not find image with ID {imageId}");
        }
    }

    private async Task RunAsync(ImageBuildJob job, IReadOnlyList<string> dockerfileCommands, bool forceBuild, IReadOnlyDictionary<string, string>? buildSecrets)
    {
        try
        {
            var image = await store.GetOrBuildAsync(dockerfileCommands, job, forceBuild, buildSecrets, _stopping.Token).ConfigureAwait(false);
            job.Succeed(image);
            LogBuilt(job.ImageId);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            job.Fail("The engine stopped during the build.", ImageBuildStatus.Terminated);
        }
        catch (Exception exception)
        {
            job.Write(exception.Message);
            job.Fail(exception.Message, ImageBuildStatus.Failed);
            // A step's output may hold what its secrets made; it goes to the build's own log, not the engine's.
            LogFailed(job.ImageId, exception is ImageBuildFailedException step ? $"'{step.Step}' exited with {step.ExitCode}" : exception.Message);
        }

        await ReleaseLogLaterAsync(job).ConfigureAwait(false);
    }

    /// <summary>Frees the log of a finished build once late joiners have had <see cref="LogRetention"/> to read it.</summary>
    private async Task ReleaseLogLaterAsync(ImageBuildJob job)
    {
        try
        {
            await Task.Delay(LogRetention, time, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The engine is stopping: the log goes with it.
        }

        job.ReleaseLog();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_jobs.Values.Select(j => j.Completion)).ConfigureAwait(false);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Image {ImageId} is ready")]
    private partial void LogBuilt(string imageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Image {ImageId} failed to build: {Reason}")]
    private partial void LogFailed(string imageId, string reason);
}

/// <summary>The state of an image build.</summary>
internal enum ImageBuildStatus
{
    /// <summary>Still building.</summary>
    Running,
    /// <summary>Built.</summary>
    Succeeded,
    /// <summary>A step failed or the base image could not be had.</summary>
    Failed,
    /// <summary>Stopped because the engine stopped.</summary>
    Terminated,
}

/// <summary>
/// One image build: its log (line by line; the newest <see cref="MaxLogChars"/> characters are kept, each line numbered
/// from 0) and its outcome.
/// </summary>
internal sealed class ImageBuildJob : IImageBuildLog
{
    /// <summary>How many characters of a build's log the engine keeps for clients that join late or fall behind.</summary>
    public const int MaxLogChars = 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly BuildLogWindow _log = new(MaxLogChars);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ImageBuildJob(string imageId) => ImageId = imageId;

    internal static ImageBuildJob Finished(string imageId, ImageRecord image)
    {
        var job = new ImageBuildJob(imageId);
        job.Succeed(image);
        return job;
    }

    /// <summary>The image id.</summary>
    public string ImageId { get; }

    /// <summary>The build's state.</summary>
    public ImageBuildStatus Status { get; private set; }

    /// <summary>The image once built.</summary>
    public ImageRecord? Image { get; private set; }

    /// <summary>Why the build failed.</summary>
    public string? Error { get; private set; }

    /// <summary>Completes when the build ends, whatever the outcome.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Appends one line (no trailing newline); a line longer than 16 Ki characters is kept as several.</summary>
    public void Write(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        TaskCompletionSource changed;
        lock (_gate)
        {
            foreach (var piece in BuildLogLineSplitter.Pieces(line))
            {
                _log.Add(piece);
            }

            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>
    /// Log lines from line <paramref name="start"/> on (led by a marker line when some were already dropped), the number
    /// of the line after the last one returned, and a task that completes when more arrive or the build ends.
    /// </summary>
    public (IReadOnlyList<string> Lines, long Next, Task Changed) Read(long start)
    {
        lock (_gate)
        {
            var (lines, next) = _log.Read(start);
            return (lines, next, Task.WhenAny(_changed.Task, _completion.Task));
        }
    }

    /// <summary>Characters of log the job holds now.</summary>
    internal long RetainedLogChars
    {
        get
        {
            lock (_gate)
            {
                return _log.RetainedChars;
            }
        }
    }

    /// <summary>Frees the log (the build ended a while ago); readers get a marker line instead.</summary>
    internal void ReleaseLog()
    {
        lock (_gate)
        {
            _log.Release();
        }
    }

    internal void Succeed(ImageRecord image)
    {
        Image = image;
        Status = ImageBuildStatus.Succeeded;
        _completion.TrySetResult();
    }

    internal void Fail(string error, ImageBuildStatus status)
    {
        Error = error;
        Status = status;
        _completion.TrySetResult();
    }
}
