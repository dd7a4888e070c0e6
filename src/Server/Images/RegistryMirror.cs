namespace TypedSandbox.Server.Images;

/// <summary>
/// A registry mirror tried before Docker Hub for <c>docker.io</c> references, e.g. <c>https://mirror.example</c> or
/// <c>http://127.0.0.1:5000</c>. Plain HTTP is accepted only for loopback hosts.
/// </summary>
public sealed record RegistryMirror
{
    /// <summary>The engine switch that adds a mirror (repeatable).</summary>
    public const string CommandLineSwitch = "--registry-mirror";

    /// <summary>The environment variable holding comma-separated mirror URLs.</summary>
    public const string EnvironmentVariable = "TYPEDSANDBOX_REGISTRY_MIRRORS";

    private RegistryMirror(Uri baseUri) => BaseUri = baseUri;

    /// <summary>The mirror's base URL (always ending in '/'); requests go to <c>BaseUri + "v2/…"</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>Parses a mirror URL; throws <see cref="ArgumentException"/> with the reason when it is not usable.</summary>
    public static RegistryMirror Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = url.Trim();
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException($"Registry mirror '{url}' is not an absolute http:// or https:// URL.", nameof(url));
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !ImageReference.IsLoopbackHost(uri.Host))
        {
            throw new ArgumentException(
                $"Registry mirror '{url}' uses plain HTTP on a non-loopback host; use https://, or http:// only for localhost, 127.0.0.0/8 or ::1.",
                nameof(url));
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new ArgumentException($"Registry mirror '{url}' must not carry a query, fragment or user info.", nameof(url));
        }

        var path = uri.AbsolutePath.EndsWith('/') ? uri.AbsolutePath : uri.AbsolutePath + "/";
        if (path.EndsWith("/v2/", StringComparison.Ordinal))
        {
            path = path[..^3];
        }

        return new RegistryMirror(new UriBuilder(uri.Scheme, uri.Host, uri.Port, path).Uri);
    }

    /// <summary>
    /// Collects mirrors from the command line (every <c>--registry-mirror URL</c> or <c>--registry-mirror=URL</c>) followed
    /// by the comma-separated <paramref name="environmentValue"/> (the value of <see cref="EnvironmentVariable"/>).
    /// Duplicates are dropped; order is kept (first tried first).
    /// </summary>
    public static IReadOnlyList<RegistryMirror> ParseAll(IReadOnlyList<string> commandLineArgs, string? environmentValue)
    {
        ArgumentNullException.ThrowIfNull(commandLineArgs);
        var urls = new List<string>();
        for (var i = 0; i < commandLineArgs.Count; i++)
        {
            var arg = commandLineArgs[i];
            if (arg == CommandLineSwitch)
            {
                if (i + 1 >= commandLineArgs.Count)
                {
                    throw new ArgumentException($"{CommandLineSwitch} needs a URL.", nameof(commandLineArgs));
                }

                urls.Add(commandLineArgs[++i]);
            }
            else if (arg.StartsWith(CommandLineSwitch + "=", StringComparison.Ordinal))
            {
                urls.Add(arg[(CommandLineSwitch.Length + 1)..]);
            }
        }

        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            urls.AddRange(environmentValue.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        var mirrors = new List<RegistryMirror>();
        foreach (var url in urls)
        {
            var mirror = Parse(url);
            if (!mirrors.Contains(mirror))
            {
                mirrors.Add(mirror);
            }
        }

        return mirrors;
    }

    /// <inheritdoc/>
    public override string ToString() => BaseUri.ToString();
}
