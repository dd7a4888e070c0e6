using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.State;
using TypedSandbox.Server.Volumes;

namespace TypedSandbox.Server.Apps;

/// <summary>
/// The lifecycle of named objects across stores: environments (with everything in them), published image names and
/// deletions that must look at running sandboxes. Knows nothing of gRPC.
/// </summary>
internal sealed partial class ObjectLifecycle(
    EnvironmentStore environments,
    ImageTagStore imageTags,
    AppRegistry apps,
    SecretStore secrets,
    VolumeStore volumes,
    ImageBuilds images,
    SandboxManager sandboxes,
    ILogger<ObjectLifecycle> logger)
{
    /// <summary>The environments.</summary>
    public EnvironmentStore Environments => environments;

    /// <summary>Published image names.</summary>
    public ImageTagStore ImageTags => imageTags;

    /// <summary>
    /// Deletes a volume and its files. A volume mounted by a running sandbox is refused (FAILED_PRECONDITION): its
    /// files would vanish under the sandbox's feet.
    /// </summary>
    public async Task DeleteVolumeAsync(string volumeId, CancellationToken cancellationToken)
    {
        var users = sandboxes.Running().Where(s => s.Spec.Volumes.Any(v => v.VolumeId == volumeId)).Select(s => s.Id).ToList();
        if (users.Count > 0)
        {
            throw EngineException.Precondition(
                $"Volume {volumeId} is mounted by running sandbox(es) {string.Join(", ", users)}; terminate them before deleting the volume.");
        }

        await volumes.DeleteAsync(volumeId, cancellationToken).ConfigureAwait(false);
        LogVolumeDeleted(volumeId);
    }

    /// <summary>Deletes an image and every name it was published under; running sandboxes of the image keep running.</summary>
    public async Task DeleteImageAsync(string imageId, CancellationToken cancellationToken)
    {
        await images.DeleteAsync(imageId, cancellationToken).ConfigureAwait(false);
        await imageTags.UnpublishImageAsync(imageId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes an environment and everything in it, as Modal does: its running sandboxes are terminated, then its
    /// volumes (with their files), secrets, published image names and apps are removed. The default environment stays.
    /// </summary>
    public async Task DeleteEnvironmentAsync(string name, CancellationToken cancellationToken)
    {
        var environment = await environments.GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (environment.IsDefault)
        {
            throw EngineException.Precondition($"The default environment '{EnvironmentStore.DefaultName}' cannot be deleted.");
        }

        var appIds = (await apps.ListAsync(environment.Name, cancellationToken).ConfigureAwait(false)).Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var session in sandboxes.Running().Where(s => appIds.Contains(s.Spec.AppId)))
        {
            await sandboxes.TerminateAsync(session.Id, cancellationToken).ConfigureAwait(false);
        }

        foreach (var volumeId in await volumes.ListIdsAsync(environment.Name, cancellationToken).ConfigureAwait(false))
        {
            await volumes.DeleteAsync(volumeId, cancellationToken).ConfigureAwait(false);
        }

        await secrets.DeleteAllAsync(environment.Name, cancellationToken).ConfigureAwait(false);
        await imageTags.DeleteAllAsync(environment.Name, cancellationToken).ConfigureAwait(false);
        await apps.DeleteAllAsync(environment.Name, cancellationToken).ConfigureAwait(false);
        await environments.RemoveAsync(environment, cancellationToken).ConfigureAwait(false);
        LogEnvironmentDeleted(environment.Name, appIds.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {VolumeId} deleted with its files")]
    private partial void LogVolumeDeleted(string volumeId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Environment {Environment} deleted with its {AppCount} app(s) and their objects")]
    private partial void LogEnvironmentDeleted(string environment, int appCount);
}
