using System.Security.Cryptography;

namespace TypedSandbox.Server.Engine;

/// <summary>Mints the engine's object ids: a Modal-style prefix and random alphanumerics.</summary>
internal static class ObjectIds
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static readonly System.Buffers.SearchValues<char> AlphabetValues = System.Buffers.SearchValues.Create(Alphabet);

    /// <summary>A V1-shaped sandbox id: <c>sb-</c> and exactly 22 alphanumerics (Modal's SDKs route it to the V1 RPCs).</summary>
    public static string NewV1SandboxId() => "sb-" + Random(22);

    /// <summary>A V2-shaped sandbox id: anything that is not V1-shaped; we use 26 alphanumerics.</summary>
    public static string NewV2SandboxId() => "sb-" + Random(26);

    /// <summary>True when the id has the V1 shape (the rule Modal's SDKs apply).</summary>
    public static bool IsV1SandboxId(string id) =>
        id.Length == 25 && id.StartsWith("sb-", StringComparison.Ordinal) && id.AsSpan(3).IndexOfAnyExcept(AlphabetValues) < 0;

    public static string New(string prefix) => prefix + "-" + Random(22);

    public static string Random(int length) => RandomNumberGenerator.GetString(Alphabet, length);
}
