using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace TypedSandbox.Hosting;

/// <summary>
/// Reads <see cref="SandboxClientOptions"/> from a configuration section (by default <c>TypedSandbox</c>) with the keys of
/// a Modal profile (<c>server_url</c>, <c>token_id</c>, <c>token_secret</c>, <c>environment</c>, …); each key may also be
/// spelled as the option's name (<c>ServerUrl</c>, <c>TokenId</c>, …). Keys left out stay unset, so <c>MODAL_*</c>
/// variables and <c>~/.modal.toml</c> still fill them.
/// </summary>
public static class SandboxClientConfiguration
{
    /// <summary>The configuration section <c>services.AddTypedSandbox()</c> reads.</summary>
    public const string SectionName = "TypedSandbox";

    /// <summary>Copies the values present in <paramref name="section"/> onto <paramref name="options"/>.</summary>
    /// <param name="section">The section, e.g. <c>configuration.GetSection("TypedSandbox")</c>.</param>
    /// <param name="options">The options to fill.</param>
    /// <exception cref="FormatException">A number, a duration or a boolean is malformed (the message names the key).</exception>
    public static void Apply(IConfiguration section, SandboxClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(options);
        Set(section, "server_url", nameof(SandboxClientOptions.ServerUrl), value => options.ServerUrl = value);
        Set(section, "token_id", nameof(SandboxClientOptions.TokenId), value => options.TokenId = value);
        Set(section, "token_secret", nameof(SandboxClientOptions.TokenSecret), value => options.TokenSecret = value);
        Set(section, "environment", nameof(SandboxClientOptions.Environment), value => options.Environment = value);
        Set(section, "profile", nameof(SandboxClientOptions.Profile), value => options.Profile = value);
        Set(section, "config_path", nameof(SandboxClientOptions.ConfigPath), value => options.ConfigPath = value);
        Set(section, "trusted_ca_path", nameof(SandboxClientOptions.TrustedCertificateAuthoritiesPath), value => options.TrustedCertificateAuthoritiesPath = value);
        Set(section, "image_builder_version", nameof(SandboxClientOptions.ImageBuilderVersion), value => options.ImageBuilderVersion = value);
        if (Text(section, "sandbox_v2", nameof(SandboxClientOptions.UseSandboxCreateV2)) is { } v2)
        {
            options.UseSandboxCreateV2 = bool.TryParse(v2, out var flag) ? flag
                : throw new FormatException($"Configuration key '{SectionName}:sandbox_v2' must be true or false, not '{v2}'.");
        }
        if (Text(section, "max_retries", nameof(SandboxClientOptions.MaxRetries)) is { } retries)
        {
            options.MaxRetries = int.TryParse(retries, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count
                : throw new FormatException($"Configuration key '{SectionName}:max_retries' must be a whole number, not '{retries}'.");
        }
        if (Text(section, "max_throttle_wait", nameof(SandboxClientOptions.MaxThrottleWait)) is { } wait)
        {
            options.MaxThrottleWait = double.TryParse(wait, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
                ? TimeSpan.FromSeconds(seconds)
                : throw new FormatException($"Configuration key '{SectionName}:max_throttle_wait' must be a number of seconds, not '{wait}'.");
        }
    }

    private static void Set(IConfiguration section, string profileKey, string optionName, Action<string> apply)
    {
        if (Text(section, profileKey, optionName) is { } value)
        {
            apply(value);
        }
    }

    private static string? Text(IConfiguration section, string profileKey, string optionName) =>
        section[profileKey] is { Length: > 0 } value ? value
        : section[optionName] is { Length: > 0 } named ? named
        : null;
}
