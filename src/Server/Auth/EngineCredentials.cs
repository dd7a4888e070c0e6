using TypedSandbox.Server.Hosting;

namespace TypedSandbox.Server.Auth;

/// <summary>
/// Decides the token pair the engine accepts and hands it to local clients: the operator's pair (token file or
/// options) when configured, else the pair generated at the first start and kept in <c>&lt;state-dir&gt;/engine-token</c>;
/// and writes <c>&lt;state-dir&gt;/modal.toml</c>, a Modal profile any SDK reads through <c>MODAL_CONFIG_PATH</c>.
/// </summary>
internal static partial class EngineCredentials
{
    /// <summary>The file name of the engine's Modal profile in the state directory.</summary>
    public const string ProfileFileName = "modal.toml";

    /// <summary>The profile (TOML table) name in that file.</summary>
    public const string ProfileName = "typedsandbox";

    private const string GeneratedTokenFileName = "engine-token";

    /// <summary>The pair callers must present.</summary>
    /// <exception cref="InvalidDataException">A token file is unreadable or malformed.</exception>
    public static EngineToken Resolve(EngineOptions options, ILogger logger)
    {
        if (options.TokenFile is { } tokenFile)
        {
            return TokenFile.Read(tokenFile);
        }

        if (options.TokenId is { } id && options.TokenSecret is { } secret)
        {
            return new EngineToken(id, secret);
        }

        var generated = Path.Combine(options.StateDirectory, GeneratedTokenFileName);
        if (File.Exists(generated))
        {
            return TokenFile.Read(generated);
        }

        var token = EngineToken.Generate();
        TokenFile.Write(generated, token);
        Log.TokenGenerated(logger, token.Id, generated);
        return token;
    }

    /// <summary>Writes the Modal profile for <paramref name="serverUrl"/> and returns its path.</summary>
    public static string WriteProfile(string stateDirectory, Uri serverUrl, EngineToken token)
    {
        var path = Path.Combine(stateDirectory, ProfileFileName);
        PrivateFile.Write(path, FormatProfile(serverUrl, token));
        return path;
    }

    /// <summary>The profile's text: one active table with the keys Modal's SDKs read.</summary>
    public static string FormatProfile(Uri serverUrl, EngineToken token) =>
        $"""
        # Written by the TypedSandbox engine at each start; point Modal's SDKs here with MODAL_CONFIG_PATH.
        [{ProfileName}]
        server_url = "{serverUrl.GetLeftPart(UriPartial.Authority)}"
        {TokenFile.Format(token)}active = true

        """;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Generated the engine's token pair {TokenId}, kept in {Path}.")]
        public static partial void TokenGenerated(ILogger logger, string tokenId, string path);
    }
}
