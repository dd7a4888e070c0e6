namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// The two shapes of sandbox ids, which tell which create path ran: <c>SandboxCreateV2</c> answers <c>sb-</c> and 26
/// alphanumerics, the V1 <c>SandboxCreate</c> <c>sb-</c> and 22. Modal's SDKs route every later call by that shape, so
/// a test of the V2 path that does not check it would also pass on a silent V1 fallback.
/// </summary>
internal static class SandboxIdForm
{
    /// <summary>Fails unless <paramref name="id"/> has the shape the given create path mints.</summary>
    public static void Assert(string? id, bool v2) =>
        Xunit.Assert.Matches(v2 ? "^sb-[0-9A-Za-z]{26}$" : "^sb-[0-9A-Za-z]{22}$", id);

    /// <summary>Like <see cref="Assert(string?, bool)"/> for a <c>MODAL_SANDBOX_V2</c> value ("1" or "0").</summary>
    public static void Assert(string? id, string sandboxV2) => Assert(id, sandboxV2 != "0");
}
