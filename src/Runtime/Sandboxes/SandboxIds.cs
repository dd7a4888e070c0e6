namespace TypedSandbox.Sandboxes;

/// <summary>Modal's rule for which RPC family serves a sandbox: the shape of its id, whatever created it.</summary>
internal static class SandboxIds
{
    private const string Prefix = "sb-";
    private const int V1SuffixLength = 22;

    /// <summary>True for a V1 id: <c>sb-</c> followed by exactly 22 ASCII letters or digits.</summary>
    public static bool IsV1(string sandboxId)
    {
        ArgumentNullException.ThrowIfNull(sandboxId);
        if (sandboxId.Length != Prefix.Length + V1SuffixLength || !sandboxId.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in sandboxId.AsSpan(Prefix.Length))
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }
        return true;
    }
}
