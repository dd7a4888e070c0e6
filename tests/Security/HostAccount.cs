using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests;

/// <summary>Runs host commands as the unprivileged host account <c>nobody</c> (an attacker with a local login).</summary>
internal static class HostAccount
{
    /// <summary>Runs <paramref name="argv"/> as nobody:nogroup with no supplementary groups; bounded by a minute.</summary>
    public static Task<ProcessOutcome> RunAsNobodyAsync(IEnumerable<string> argv, IReadOnlyDictionary<string, string>? environment = null) =>
        ExternalProcess.RunAsync(
            "setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", .. argv], "/", environment, TimeSpan.FromMinutes(1));
}
