using TypedSandbox.Errors;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Validation;

namespace TypedSandbox;

/// <summary>Published images: stable names for built images, lookups by name, and deletion.</summary>
public sealed partial class ImageService
{
    private const string DefaultTag = "latest";

    /// <summary>
    /// Publishes a built image under a stable name (Modal's <c>image.publish</c>), replacing the image that name
    /// pointed at before.
    /// </summary>
    /// <param name="image">A built image (see <see cref="Image.BuildAsync"/>).</param>
    /// <param name="name">The name, optionally with a tag: <c>name:tag</c>; without one, <c>:latest</c>.</param>
    /// <param name="environment">The environment to publish in; defaults to the client's.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidOperationException">The image has not been built.</exception>
    /// <exception cref="InvalidArgumentException">The name or tag is not valid.</exception>
    /// <exception cref="NotFoundException">The image or the environment does not exist.</exception>
    public async Task PublishAsync(Image image, string name, string? environment = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var imageId = image.ImageId ?? throw new InvalidOperationException("Cannot publish an image that has not been built yet; call BuildAsync first.");
        var (tag, namespaced) = ParseName(name);
        await _client.ControlPlane.CallAsync(
            "ImagePublish",
            static (c, r, o) => c.ImagePublishAsync(r, o),
            new ImagePublishRequest { ImageId = imageId, Tag = tag, EnvironmentName = EnvironmentOf(namespaced, environment) },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns an image published earlier under <paramref name="name"/> (Modal's <c>images.fromName</c>).</summary>
    /// <param name="name">The name, optionally with a tag: <c>name:tag</c>; without one, <c>:latest</c>.</param>
    /// <param name="environment">The environment it was published in; defaults to the client's.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidArgumentException">The name or tag is not valid.</exception>
    /// <exception cref="NotFoundException">Nothing is published under that name, or the image was deleted.</exception>
    public async Task<Image> FromNameAsync(string name, string? environment = null, CancellationToken cancellationToken = default)
    {
        var (tag, namespaced) = ParseName(name);
        var response = await _client.ControlPlane.CallAsync(
            "ImageGetByTag",
            static (c, r, o) => c.ImageGetByTagAsync(r, o),
            new ImageGetByTagRequest { Tag = tag, EnvironmentName = EnvironmentOf(namespaced, environment) },
            cancellationToken).ConfigureAwait(false);
        return FromBuiltId(response.ImageId);
    }

    /// <summary>
    /// Deletes an image by id (Modal's <c>images.delete</c>): it can no longer start sandboxes, its published names go
    /// with it, and sandboxes already running from it keep running. The images it was built on stay.
    /// </summary>
    /// <param name="imageId">The image id (<c>im-…</c>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">No image has this id.</exception>
    public async Task DeleteAsync(string imageId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(imageId);
        await _client.ControlPlane.CallAsync(
            "ImageDelete", static (c, r, o) => c.ImageDeleteAsync(r, o), new ImageDeleteRequest { ImageId = imageId }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An image name as the protocol carries it (<c>[prefix/]name:tag</c>), and whether it has a prefix.</summary>
    private static (string Tag, bool Namespaced) ParseName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        var imageName = colon < 0 ? name : name[..colon];
        var tag = colon < 0 ? DefaultTag : name[(colon + 1)..];
        var slash = imageName.LastIndexOf('/');
        var prefix = slash < 0 ? "" : imageName[..slash];
        var shortName = slash < 0 ? imageName : imageName[(slash + 1)..];
        if (slash >= 0 && (prefix.Length == 0 || shortName.Length == 0))
        {
            throw new InvalidArgumentException($"Invalid Image name '{name}': the parts before and after '/' must be non-empty.");
        }

        Rules.Enforce(ObjectNames.Check(shortName, "Image name"));
        Rules.Enforce(ObjectNames.Check(tag, "Image tag"));
        if (shortName.StartsWith("im-", StringComparison.Ordinal))
        {
            throw new InvalidArgumentException("Image name cannot start with 'im-' (reserved for image IDs).");
        }

        return ($"{imageName}:{tag}", slash >= 0);
    }

    /// <summary>A prefixed name is global (no environment), as in Modal's SDKs.</summary>
    private string EnvironmentOf(bool namespaced, string? environment)
    {
        if (namespaced && environment is not null)
        {
            throw new InvalidArgumentException("Cannot specify an environment when the image name contains a '/'.");
        }

        return namespaced ? "" : environment ?? _client.Environment;
    }
}
