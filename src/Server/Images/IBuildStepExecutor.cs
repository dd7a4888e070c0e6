namespace TypedSandbox.Server.Images;

/// <summary>
/// Runs one <c>RUN</c> step of an image build in a build sandbox. The implementation mounts an overlayfs with
/// <see cref="BuildStepRequest.LowerDirs"/> below and <see cref="BuildStepRequest.UpperDir"/> /
/// <see cref="BuildStepRequest.OverlayWorkDir"/> on top, runs <see cref="BuildStepRequest.Command"/> in it, streams the
/// output to the log line by line and returns the exit code. Whatever the command changed is left in the upper dir
/// (overlayfs already writes deletions as whiteouts there); the image store turns it into the step's layer.
/// </summary>
internal interface IBuildStepExecutor
{
    /// <summary>Runs the step; returns its exit code (a signal death is reported as 128 + signal number).</summary>
    Task<int> RunAsync(BuildStepRequest request, IImageBuildLog log, CancellationToken cancellationToken);
}

/// <summary>What a build step runs and where.</summary>
/// <param name="LowerDirs">Image layers, top first (overlayfs <c>lowerdir</c> order), read-only.</param>
/// <param name="UpperDir">Empty directory that receives the step's changes (overlayfs <c>upperdir</c>).</param>
/// <param name="OverlayWorkDir">Empty directory on the same filesystem as the upper dir (overlayfs <c>workdir</c>).</param>
/// <param name="Command">The argv to run, e.g. <c>["/bin/sh", "-c", "apt-get install -y curl"]</c>.</param>
/// <param name="Env">Environment as <c>NAME=value</c> entries (the image's env so far).</param>
/// <param name="WorkingDir">Working directory inside the image (created when missing).</param>
/// <param name="User">User to run as (name, uid or uid:gid), or <see langword="null"/> for root.</param>
internal sealed record BuildStepRequest(
    IReadOnlyList<string> LowerDirs,
    string UpperDir,
    string OverlayWorkDir,
    IReadOnlyList<string> Command,
    IReadOnlyList<string> Env,
    string WorkingDir,
    string? User);
