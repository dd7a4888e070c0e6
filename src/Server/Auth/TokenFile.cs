namespace TypedSandbox.Server.Auth;

/// <summary>
/// A token pair kept in a file: two TOML lines, <c>token_id = "ak-…"</c> and <c>token_secret = "as-…"</c> (the keys of a
/// Modal profile, so an operator can copy them from one). Used for <c>--token-file</c> and for the pair the engine
/// generates and keeps in its state directory.
/// </summary>
internal static class TokenFile
{
    /// <summary>Reads the pair in <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is unreadable or lacks one of the keys.</exception>
    public static EngineToken Read(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"Could not read the token file '{path}': {exception.Message}", exception);
        }

        string? id = null;
        string? secret = null;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith('['))
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                throw new InvalidDataException($"The token file '{path}' has a line that is not 'key = \"value\"'.");
            }

            var key = line[..equals].Trim();
            var value = line[(equals + 1)..].Trim().Trim('"');
            switch (key)
            {
                case "token_id":
                    id = value;
                    break;
                case "token_secret":
                    secret = value;
                    break;
                default:
                    break;
            }
        }

        if (id is null || secret is null)
        {
            throw new InvalidDataException($"The token file '{path}' needs both token_id = \"…\" and token_secret = \"…\".");
        }

        try
        {
            return new EngineToken(id, secret);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"The token file '{path}': {exception.Message}", exception);
        }
    }

    /// <summary>Writes <paramref name="token"/> to <paramref name="path"/> (mode 0600).</summary>
    public static void Write(string path, EngineToken token) =>
        PrivateFile.Write(path, Format(token));

    /// <summary>The two lines of a token file (the values need no escaping: <see cref="EngineToken"/> restricts them).</summary>
    public static string Format(EngineToken token) => $"token_id = \"{token.Id}\"\ntoken_secret = \"{token.Secret}\"\n";
}
