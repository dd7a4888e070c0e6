using Microsoft.Extensions.Logging;
using TypedSandbox.Server.Hosting;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Samples;

/// <summary>
/// Starts the embedded engine for a sample when nothing else is configured (no MODAL_SERVER_URL, no ~/.modal.toml),
/// and points <see cref="SandboxClient.Default"/> at it.
/// </summary>
internal static class SampleEngine
{
    public static async Task<EngineHost?> StartIfNeededAsync(CancellationToken cancellationToken = default)
    {
        var configPath = Environment.GetEnvironmentVariable("MODAL_CONFIG_PATH")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".modal.toml");
        if (Environment.GetEnvironmentVariable("MODAL_SERVER_URL") is { Length: > 0 } || File.Exists(configPath))
        {
            return null;
        }

        var host = await EngineHost.StartAsync(
            new EngineOptions
            {
                Port = 0,
                RegistryMirrors = RegistryMirror.ParseAll([], Environment.GetEnvironmentVariable(RegistryMirror.EnvironmentVariable)),
            },
            logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning),
            cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"[embedded engine on {host.Url}; MODAL_CONFIG_PATH={host.ConfigPath}]");
        SandboxClient.Default = CreateClient(host);
        return host;
    }

    /// <summary>
    /// A client for <paramref name="engine"/> when the sample started one, otherwise configured as Modal's SDKs are
    /// (MODAL_* variables, ~/.modal.toml); <paramref name="loggerFactory"/> receives the client's logs.
    /// </summary>
    public static SandboxClient CreateClient(EngineHost? engine, ILoggerFactory? loggerFactory = null) =>
        new(new SandboxClientOptions
        {
            // The embedded engine's own profile (<state-dir>/modal.toml): its URL and token pair.
            ConfigPath = engine?.ConfigPath,
            LoggerFactory = loggerFactory,
        });
}
