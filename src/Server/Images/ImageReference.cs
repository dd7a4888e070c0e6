using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace TypedSandbox.Server.Images;

/// <summary>
/// A parsed image reference such as <c>python:3.13-slim</c>, <c>127.0.0.1:5000/team/app:v1</c> or
/// <c>alpine@sha256:…</c>, normalized the way Docker does (<c>docker.io/library/python:3.13-slim</c>).
/// </summary>
internal sealed partial record ImageReference
{
    /// <summary>The registry host Docker Hub references normalize to.</summary>
    public const string DockerHubRegistry = "docker.io";

    private ImageReference(string registry, string repository, string? tag, string? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>Registry host with optional port, e.g. <c>docker.io</c> or <c>127.0.0.1:5000</c>.</summary>
    public string Registry { get; }

    /// <summary>Repository path inside the registry, e.g. <c>library/python</c>.</summary>
    public string Repository { get; }

    /// <summary>The tag, or <see langword="null"/> when the reference names only a digest.</summary>
    public string? Tag { get; }

    /// <summary>The manifest digest (<c>sha256:…</c>) when the reference pins one.</summary>
    public string? Digest { get; }

    /// <summary>True when the reference points at Docker Hub (where registry mirrors apply).</summary>
    public bool IsDockerHub => Registry == DockerHubRegistry;

    /// <summary>True when the registry host is a loopback address (plain HTTP is allowed there).</summary>
    public bool IsLoopbackRegistry => IsLoopbackHost(HostWithoutPort(Registry));

    /// <summary>The digest if pinned, otherwise the tag: what the manifest endpoint is queried with.</summary>
    public string ManifestReference => Digest ?? Tag!;

    /// <summary>Parses <paramref name="reference"/>; throws <see cref="InvalidImageReferenceException"/> on bad syntax.</summary>
    public static ImageReference Parse(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var text = reference.Trim();
        if (text.Length == 0)
        {
            throw new InvalidImageReferenceException(reference, "the reference is empty");
        }

        string? digest = null;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = text[(at + 1)..];
            text = text[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                throw new InvalidImageReferenceException(reference, $"digest '{digest}' is not 'sha256:' followed by 64 lowercase hex digits");
            }
        }

        string? tag = null;
        var lastSlash = text.LastIndexOf('/');
        var colon = text.IndexOf(':', lastSlash + 1);
        if (colon >= 0)
        {
            tag = text[(colon + 1)..];
            text = text[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                throw new InvalidImageReferenceException(reference, $"tag '{tag}' may use letters, digits, '_', '.' and '-' (at most 128 characters, not starting with '.' or '-')");
            }
        }

        string registry;
        string repository;
        var firstSlash = text.IndexOf('/', StringComparison.Ordinal);
        var first = firstSlash < 0 ? text : text[..firstSlash];
        if (firstSlash >= 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal)
            || first.StartsWith('[') || first == "localhost"))
        {
            registry = first;
            repository = text[(firstSlash + 1)..];
            if (!RegistryPattern().IsMatch(registry))
            {
                throw new InvalidImageReferenceException(reference, $"registry '{registry}' is not a valid host[:port]");
            }
        }
        else
        {
            registry = DockerHubRegistry;
            repository = text;
        }

        if (registry is "index.docker.io" or "registry-1.docker.io")
        {
            registry = DockerHubRegistry;
        }

        if (registry == DockerHubRegistry && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = "library/" + repository;
        }

        if (repository.Length == 0 || !RepositoryPattern().IsMatch(repository))
        {
            throw new InvalidImageReferenceException(reference,
                $"repository '{repository}' must be lowercase path components of letters and digits separated by '.', '_', '__' or '-', joined by '/'");
        }

        if (repository.Length > 255)
        {
            throw new InvalidImageReferenceException(reference, "the repository name is longer than 255 characters");
        }

        if (tag is null && digest is null)
        {
            tag = "latest";
        }

        return new ImageReference(registry, repository, tag, digest);
    }

    /// <summary>Returns a copy of this reference pinned to <paramref name="manifestDigest"/>.</summary>
    public ImageReference WithDigest(string manifestDigest) => new(Registry, Repository, Tag, manifestDigest);

    /// <summary>True when <paramref name="host"/> (no port) is localhost or an IPv4/IPv6 loopback address.</summary>
    public static bool IsLoopbackHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var bare = host.Trim('[', ']');
        if (string.Equals(bare, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(bare, out var address) && IPAddress.IsLoopback(address);
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = Registry + "/" + Repository;
        if (Tag is not null)
        {
            text += ":" + Tag;
        }

        if (Digest is not null)
        {
            text += "@" + Digest;
        }

        return text;
    }

    /// <summary>True for <c>sha256:</c> followed by 64 lowercase hex digits.</summary>
    public static bool IsSha256Digest(string digest) => DigestPattern().IsMatch(digest);

    internal static string HostWithoutPort(string registry)
    {
        if (registry.StartsWith('['))
        {
            var close = registry.IndexOf(']', StringComparison.Ordinal);
            return close < 0 ? registry : registry[..(close + 1)];
        }

        var colon = registry.LastIndexOf(':');
        return colon < 0 ? registry : registry[..colon];
    }

    internal static string ShortDigest(string digest) =>
        digest.StartsWith("sha256:", StringComparison.Ordinal) && digest.Length > 19
            ? digest[..19]
            : digest;

    internal static string FormatSize(long bytes) => bytes switch
    {
        >= 1024 * 1024 => (bytes / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        >= 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " kB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    [GeneratedRegex("^sha256:[a-f0-9]{64}$")]
    private static partial Regex DigestPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex(@"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$")]
    private static partial Regex RegistryPattern();
}
