using System.Security.Cryptography;
using System.Text;

namespace TypedSandbox.Server.Auth;

/// <summary>
/// The token pair every control-plane caller presents (<c>x-modal-token-id</c>, <c>x-modal-token-secret</c>), shaped as
/// Modal's: <c>ak-</c> and <c>as-</c> followed by random letters and digits.
/// </summary>
public sealed class EngineToken
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private readonly byte[] _idHash;
    private readonly byte[] _secretHash;

    /// <summary>Creates a token pair from its two parts.</summary>
    /// <exception cref="ArgumentException">A part is empty or has characters outside letters, digits, '-', '_' and '.'.</exception>
    public EngineToken(string id, string secret)
    {
        Id = Check(id, "token id");
        Secret = Check(secret, "token secret");
        _idHash = SHA256.HashData(Encoding.UTF8.GetBytes(id));
        _secretHash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
    }

    /// <summary>The token id (not secret: it names the caller in logs).</summary>
    public string Id { get; }

    /// <summary>The token secret.</summary>
    public string Secret { get; }

    /// <summary>A new random pair: 22 random characters after <c>ak-</c> and 22 after <c>as-</c> (~131 bits each).</summary>
    public static EngineToken Generate() =>
        new("ak-" + RandomNumberGenerator.GetString(Alphabet, 22), "as-" + RandomNumberGenerator.GetString(Alphabet, 22));

    /// <summary>True when <paramref name="id"/> and <paramref name="secret"/> are this pair; the time taken does not depend on
    /// how much of either matches (both are hashed, then compared in constant time).</summary>
    public bool Matches(string? id, string? secret)
    {
        var idMatches = CryptographicOperations.FixedTimeEquals(_idHash, SHA256.HashData(Encoding.UTF8.GetBytes(id ?? "")));
        var secretMatches = CryptographicOperations.FixedTimeEquals(_secretHash, SHA256.HashData(Encoding.UTF8.GetBytes(secret ?? "")));
        return idMatches & secretMatches;
    }

    /// <summary>The id only, so that logging the pair never writes the secret.</summary>
    public override string ToString() => Id;

    private static string Check(string value, string what)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length is 0 or > 256 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"The {what} must be 1-256 letters, digits, '-', '_' or '.'.", nameof(value));
        }

        return value;
    }
}
