using Google.Protobuf.Collections;
using TypedSandbox.Protocol.Client;

namespace TypedSandbox.Sandboxes;

/// <summary>How the client reads the server's answers about a sandbox: Modal's exit-code rule, tunnels, waits.</summary>
internal static class SandboxResponses
{
    /// <summary>The finished sandbox's result, or null while it still runs.</summary>
    public static GenericResult? Finished(SandboxWaitResponse response) =>
        response.Result is { Status: not GenericResult.Types.GenericStatus.Unspecified } result ? result : null;

    /// <summary>Modal's rule for exit codes of finished sandboxes: TIMEOUT → 124, TERMINATED → 137, else the exit code.</summary>
    public static int ExitCode(GenericResult result) => result.Status switch
    {
        GenericResult.Types.GenericStatus.Timeout => 124,
        GenericResult.Types.GenericStatus.Terminated => 137,
        _ => result.Exitcode,
    };

    /// <summary>How long one wait call may take: the server's long poll plus a margin for the answer to arrive.</summary>
    public static TimeSpan WaitAttemptTimeout(TimeSpan longPoll) => longPoll + TimeSpan.FromSeconds(20);

    /// <summary>The tunnels of a tunnels answer, keyed by container port.</summary>
    /// <exception cref="SandboxTimeoutException">The server gave up waiting for the tunnels.</exception>
    public static IReadOnlyDictionary<int, Tunnel> Tunnels(SandboxGetTunnelsResponse response) =>
        response.Result is { Status: GenericResult.Types.GenericStatus.Timeout }
            ? throw new SandboxTimeoutException("Sandbox operation timed out")
            : Tunnels(response.Tunnels);

    /// <summary>Tunnels keyed by container port.</summary>
    public static IReadOnlyDictionary<int, Tunnel> Tunnels(RepeatedField<TunnelData> tunnels) =>
        tunnels.ToDictionary(
            t => (int)t.ContainerPort,
            t => new Tunnel((int)t.ContainerPort, t.Host, (int)t.Port,
                t.HasUnencryptedHost ? t.UnencryptedHost : null,
                t.HasUnencryptedPort ? (int)t.UnencryptedPort : null));

    /// <summary>Awaits a router-access call; FAILED_PRECONDITION means the sandbox has no router to offer.</summary>
    public static async Task<T> RouterAccessAsync<T>(Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (ConflictException e)
        {
            throw new SandboxException("Command router access is not available for this sandbox", e);
        }
    }
}
