using System.Text;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Images;

/// <summary>
/// Runs an image build's <c>RUN</c> steps in real sandboxes (same isolation as user sandboxes, open network so package
/// managers work), writing the step's changes into the image store's upper directory and its output to the build log.
/// </summary>
internal sealed class SandboxBuildStepExecutor(IContainerRuntime runtime, string scratchDirectory) : IBuildStepExecutor
{
    /// <summary>The longest a single build step may run.</summary>
    public static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(30);

    private const int ChunkBytes = 16 * 1024;

    /// <inheritdoc/>
    public async Task<int> RunAsync(BuildStepRequest request, IImageBuildLog log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(log);
        if (request.User is { Length: > 0 } user && user is not ("root" or "0" or "0:0"))
        {
            throw new InvalidImageDefinitionException($"RUN as USER '{user}' is not supported by the local engine yet; run the step as root.");
        }

        // overlayfs needs at least one lower directory: a FROM scratch image gets an empty one.
        var lowerDirs = request.LowerDirs;
        string? emptyLower = null;
        if (lowerDirs.Count == 0)
        {
            emptyLower = Path.Combine(scratchDirectory, "empty-" + ObjectIds.Random(12));
            Directory.CreateDirectory(emptyLower);
            lowerDirs = [emptyLower];
        }

        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in request.Env)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                env[entry[..equals]] = entry[(equals + 1)..];
            }
        }

        try
        {
            await using var container = await runtime.StartAsync(new ContainerSpec
            {
                Id = "tb-" + ObjectIds.Random(22),
                LayerDirs = lowerDirs,
                ImageEnv = env,
                Workdir = request.WorkingDir,
                Entrypoint = new ProcessSpec(request.Command) { Timeout = StepTimeout },
                Network = NetworkPolicy.Open,
                WritableLayer = new WritableLayer(request.UpperDir, request.OverlayWorkDir),
                Hostname = "build",
            }, cancellationToken).ConfigureAwait(false);
            var entrypoint = container.Entrypoint!;
            await Task.WhenAll(
                CopyLinesAsync(entrypoint.Stdout, log, cancellationToken),
                CopyLinesAsync(entrypoint.Stderr, log, cancellationToken)).ConfigureAwait(false);
            var exit = await container.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (exit.TimedOut)
            {
                log.Write($"The step ran longer than {StepTimeout.TotalMinutes:0} minutes and was stopped.");
            }

            return exit.StatusCode;
        }
        finally
        {
            if (emptyLower is not null)
            {
                Directory.Delete(emptyLower);
            }
        }
    }

    private static async Task CopyLinesAsync(ExecJournal journal, IImageBuildLog log, CancellationToken cancellationToken)
    {
        var lines = new BuildLogLineSplitter(log);
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        var chars = new char[ChunkBytes + 4];
        long offset = 0;
        while (true)
        {
            var data = await journal.ReadAsync(offset, ChunkBytes, cancellationToken).ConfigureAwait(false);
            if (data.IsEmpty)
            {
                break;
            }

            offset += data.Length;
            lines.Append(chars.AsSpan(0, decoder.GetChars(data.Span, chars, flush: false)));
        }

        lines.Append(chars.AsSpan(0, decoder.GetChars([], chars, flush: true)));
        lines.Flush();
    }
}
