using System.Buffers.Text;
using System.Text.Json;

namespace TypedSandbox.Transport;

/// <summary>Reads the expiry of a JWT without checking its signature (the server checks it).</summary>
internal static class Jwt
{
    /// <summary>The <c>exp</c> claim of a three-part token, or null when the token has none or is not a JWT.</summary>
    public static DateTimeOffset? ReadExpiry(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }
        try
        {
            var payload = Base64Url.DecodeFromChars(parts[1]);
            using var json = JsonDocument.Parse(payload);
            if (json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("exp", out var exp)
                && exp.ValueKind == JsonValueKind.Number
                && exp.TryGetDouble(out var seconds))
            {
                return DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
            }
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
        return null;
    }
}
