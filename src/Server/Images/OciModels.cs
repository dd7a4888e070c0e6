using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TypedSandbox.Server.Images;

/// <summary>Media types of the OCI image spec and Docker's v2 schema 2.</summary>
internal static class OciMediaTypes
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerManifestSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    /// <summary>The Accept header sent for manifests: every format this client reads.</summary>
    public const string ManifestAccept = OciIndex + ", " + DockerManifestList + ", " + OciManifest + ", " + DockerManifest;

    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    public static bool IsManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;
}

/// <summary>An OS/architecture pair as used in manifest lists.</summary>
/// <param name="Os">Operating system, e.g. <c>linux</c>.</param>
/// <param name="Architecture">GOARCH-style architecture, e.g. <c>amd64</c>.</param>
/// <param name="Variant">Optional CPU variant, e.g. <c>v8</c>.</param>
internal sealed record OciPlatform(
    [property: JsonPropertyName("os")] string Os,
    [property: JsonPropertyName("architecture")] string Architecture,
    [property: JsonPropertyName("variant")] string? Variant = null)
{
    /// <summary>The platform of this machine.</summary>
    public static OciPlatform Current { get; } = RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.Arm64 => new OciPlatform("linux", "arm64", "v8"),
        System.Runtime.InteropServices.Architecture.Arm => new OciPlatform("linux", "arm", "v7"),
        _ => new OciPlatform("linux", "amd64"),
    };

    /// <inheritdoc/>
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}

internal sealed record OciDescriptor(
    [property: JsonPropertyName("mediaType")] string? MediaType,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("platform")] OciPlatform? Platform = null,
    [property: JsonPropertyName("urls")] IReadOnlyList<string>? Urls = null);

/// <summary>Either an image index / manifest list (<see cref="Manifests"/>) or an image manifest (<see cref="Config"/>, <see cref="Layers"/>).</summary>
internal sealed record OciManifestDocument(
    [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
    [property: JsonPropertyName("mediaType")] string? MediaType,
    [property: JsonPropertyName("manifests")] IReadOnlyList<OciDescriptor>? Manifests,
    [property: JsonPropertyName("config")] OciDescriptor? Config,
    [property: JsonPropertyName("layers")] IReadOnlyList<OciDescriptor>? Layers)
{
    public static OciManifestDocument Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<OciManifestDocument>(json) ?? throw new JsonException("The manifest is 'null'.");
}

/// <summary>The parts of an image config blob the engine uses.</summary>
internal sealed record OciImageConfigFile(
    [property: JsonPropertyName("architecture")] string? Architecture,
    [property: JsonPropertyName("os")] string? Os,
    [property: JsonPropertyName("config")] OciContainerConfig? Config)
{
    public static OciImageConfigFile Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<OciImageConfigFile>(json) ?? throw new JsonException("The image config is 'null'.");

    public ImageConfig ToImageConfig() => new(
        Config?.Env ?? [],
        Config?.Entrypoint,
        Config?.Cmd,
        string.IsNullOrEmpty(Config?.WorkingDir) ? null : Config.WorkingDir,
        string.IsNullOrEmpty(Config?.User) ? null : Config.User);
}

internal sealed record OciContainerConfig(
    [property: JsonPropertyName("Env")] IReadOnlyList<string>? Env,
    [property: JsonPropertyName("Entrypoint")] IReadOnlyList<string>? Entrypoint,
    [property: JsonPropertyName("Cmd")] IReadOnlyList<string>? Cmd,
    [property: JsonPropertyName("WorkingDir")] string? WorkingDir,
    [property: JsonPropertyName("User")] string? User);

internal sealed record TokenResponse(
    [property: JsonPropertyName("token")] string? Token,
    [property: JsonPropertyName("access_token")] string? AccessToken);
