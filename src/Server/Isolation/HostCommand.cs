using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>Runs a short host command (ip, the runtime's kill/delete) to completion through <see cref="HostProcesses"/>.</summary>
internal static class HostCommand
{
    public static Task<HostProcessResult> RunAsync(string file, IEnumerable<string> args, CancellationToken ct, string? stdin = null) =>
        HostProcesses.RunAsync(new HostProcessStart(file, [.. args]) { Stdin = stdin, KillTree = true }, ct);

    public static async Task<HostProcessResult> RunCheckedAsync(string file, IEnumerable<string> args, CancellationToken ct, string? stdin = null)
    {
        var start = new HostProcessStart(file, [.. args]) { Stdin = stdin, KillTree = true };
        var result = await HostProcesses.RunAsync(start, ct).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new ContainerStartException($"'{start}' failed with exit code {result.ExitCode}: {result.Stderr.Trim()}");
        }

        return result;
    }
}
