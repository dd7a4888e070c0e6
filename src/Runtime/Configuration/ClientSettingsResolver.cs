using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tomlyn;
using Tomlyn.Model;

namespace TypedSandbox.Configuration;

/// <summary>
/// Applies Modal's precedence: constructor options, then <c>MODAL_*</c> environment variables, then the active
/// profile of the config file.
/// </summary>
internal static class ClientSettingsResolver
{
    /// <summary>Resolves settings from the process environment and the user's home directory.</summary>
    public static ClientSettings Resolve(SandboxClientOptions options) =>
        Resolve(options, System.Environment.GetEnvironmentVariable,
            System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile));

    /// <summary>Resolves settings from explicit sources (the seam tests use).</summary>
    /// <param name="options">Constructor values.</param>
    /// <param name="getEnvironmentVariable">Reads one environment variable.</param>
    /// <param name="homeDirectory">The directory holding <c>.modal.toml</c> by default.</param>
    public static ClientSettings Resolve(SandboxClientOptions options, Func<string, string?> getEnvironmentVariable, string homeDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(getEnvironmentVariable);
        string? Env(string name) => NullIfEmpty(getEnvironmentVariable(name));

        var configPath = options.ConfigPath ?? Env("MODAL_CONFIG_PATH") ?? Path.Combine(homeDirectory, ".modal.toml");
        var profiles = ModalConfigFile.Read(configPath);
        var requestedProfile = NullIfEmpty(options.Profile) ?? Env("MODAL_PROFILE");
        var (profileName, profile) = SelectProfile(profiles, requestedProfile, configPath);

        string? Pick(string? fromOptions, string envName, string key) =>
            NullIfEmpty(fromOptions) ?? Env(envName) ?? profile.GetString(key, configPath, profileName);

        var serverUrlText = Pick(options.ServerUrl, "MODAL_SERVER_URL", "server_url") ?? ClientSettings.DefaultServerUrl;
        if (!Uri.TryCreate(serverUrlText, UriKind.Absolute, out var serverUrl)
            || (serverUrl.Scheme != Uri.UriSchemeHttp && serverUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new SandboxConfigurationException(
                $"The server URL '{serverUrlText}' is not valid; use an absolute http:// or https:// URL.");
        }

        var sandboxV2 = options.UseSandboxCreateV2
            ?? ParseFlag(getEnvironmentVariable("MODAL_SANDBOX_V2"))
            ?? profile.GetBool("sandbox_v2", configPath, profileName)
            ?? true;

        TimeSpan? throttle = options.MaxThrottleWait;
        if (throttle is null && Env("MODAL_MAX_THROTTLE_WAIT") is { } throttleText)
        {
            if (!double.TryParse(throttleText, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0)
            {
                throw new SandboxConfigurationException(
                    $"MODAL_MAX_THROTTLE_WAIT='{throttleText}' is not a non-negative number of seconds.");
            }
            throttle = TimeSpan.FromSeconds(seconds);
        }

        return new ClientSettings(
            serverUrl,
            Pick(options.TokenId, "MODAL_TOKEN_ID", "token_id"),
            Pick(options.TokenSecret, "MODAL_TOKEN_SECRET", "token_secret"),
            options.Environment ?? Env("MODAL_ENVIRONMENT") ?? profile.GetString("environment", configPath, profileName) ?? "",
            profileName,
            configPath,
            sandboxV2,
            Pick(options.ImageBuilderVersion, "MODAL_IMAGE_BUILDER_VERSION", "image_builder_version"),
            throttle)
        {
            TrustedCertificateAuthorities = options.TrustedCertificateAuthoritiesPath is { Length: > 0 } caPath ? ReadAuthorities(caPath) : null,
        };
    }

    private static X509Certificate2Collection ReadAuthorities(string path)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new SandboxConfigurationException($"Could not read the certificate authorities in '{path}' (PEM): {e.Message}", e);
        }

        if (authorities.Count == 0)
        {
            throw new SandboxConfigurationException($"'{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
        }

        return authorities;
    }

    /// <summary>Modal's flag rule: "0", "false" and "" are false, anything else true; unset is null.</summary>
    internal static bool? ParseFlag(string? value) => value switch
    {
        null => null,
        "" or "0" => false,
        _ when string.Equals(value, "false", StringComparison.OrdinalIgnoreCase) => false,
        _ => true,
    };

    private static (string? Name, ModalProfile Profile) SelectProfile(
        IReadOnlyDictionary<string, ModalProfile> profiles, string? requested, string configPath)
    {
        if (requested is not null)
        {
            if (profiles.TryGetValue(requested, out var named))
            {
                return (requested, named);
            }
            if (profiles.Count == 0)
            {
                return (requested, ModalProfile.Empty);
            }
            throw new SandboxConfigurationException(
                $"Profile '{requested}' is not in the config file '{configPath}'; it has: {string.Join(", ", profiles.Keys.Order(StringComparer.Ordinal))}.");
        }

        var active = profiles.Where(p => p.Value.IsActive).ToList();
        if (active.Count > 1)
        {
            throw new SandboxConfigurationException(
                $"The config file '{configPath}' marks more than one profile as active: {string.Join(", ", active.Select(p => p.Key))}.");
        }
        if (active.Count == 1)
        {
            return (active[0].Key, active[0].Value);
        }
        return profiles.TryGetValue("default", out var fallback) ? ("default", fallback) : (null, ModalProfile.Empty);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>One <c>[profile]</c> table of the Modal config file.</summary>
internal sealed class ModalProfile(TomlTable table)
{
    public static readonly ModalProfile Empty = new(new TomlTable());

    public bool IsActive => table.TryGetValue("active", out var value) && value is true;

    public string? GetString(string key, string configPath, string? profileName)
    {
        if (!table.TryGetValue(key, out var value))
        {
            return null;
        }
        return value switch
        {
            string text => string.IsNullOrEmpty(text) ? null : text,
            _ => throw new SandboxConfigurationException(
                $"In the config file '{configPath}', profile '{profileName}': '{key}' must be a string, not {Describe(value)}."),
        };
    }

    public bool? GetBool(string key, string configPath, string? profileName)
    {
        if (!table.TryGetValue(key, out var value))
        {
            return null;
        }
        return value switch
        {
            bool flag => flag,
            string text => ClientSettingsResolver.ParseFlag(text),
            _ => throw new SandboxConfigurationException(
                $"In the config file '{configPath}', profile '{profileName}': '{key}' must be a boolean, not {Describe(value)}."),
        };
    }

    private static string Describe(object? value) => value?.GetType().Name ?? "null";
}

/// <summary>Reads the Modal config file (TOML: one table per profile).</summary>
internal static class ModalConfigFile
{
    /// <summary>Returns the profiles in the file; none when it does not exist.</summary>
    /// <exception cref="SandboxConfigurationException">The file is not valid TOML or not shaped as profiles.</exception>
    public static IReadOnlyDictionary<string, ModalProfile> Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new Dictionary<string, ModalProfile>();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SandboxConfigurationException($"Could not read the config file '{path}': {e.Message}", e);
        }

        TomlTable document;
        try
        {
            document = TomlSerializer.Deserialize<TomlTable>(text)
                ?? throw new SandboxConfigurationException($"The config file '{path}' is empty or not a TOML table.");
        }
        catch (TomlException e)
        {
            throw new SandboxConfigurationException($"The config file '{path}' is not valid TOML: {e.Message}", e);
        }

        var profiles = new Dictionary<string, ModalProfile>(StringComparer.Ordinal);
        foreach (var (name, value) in document)
        {
            if (value is not TomlTable table)
            {
                throw new SandboxConfigurationException(
                    $"The config file '{path}' has a top-level key '{name}' that is not a profile table; put settings under [profile-name].");
            }
            profiles[name] = new ModalProfile(table);
        }
        return profiles;
    }
}
