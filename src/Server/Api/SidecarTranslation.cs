using TypedSandbox.Protocol.Client;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.Sidecars;

namespace TypedSandbox.Server.Api;

/// <summary>Sidecar requests (control plane and router forms) ↔ engine records: what is honoured, what is refused.</summary>
internal static class SidecarTranslation
{
    /// <summary>What a create request asks for beyond image, command, workdir, environment and memory.</summary>
    /// <param name="Volumes">Volume mounts given.</param>
    /// <param name="CloudBuckets">Cloud bucket mounts given.</param>
    /// <param name="Pty">A PTY asked for.</param>
    /// <param name="Network">The outbound network asked for, or null.</param>
    /// <param name="Proxy">A proxy named.</param>
    /// <param name="Oidc">An OIDC identity token asked for.</param>
    public sealed record Extras(int Volumes, int CloudBuckets, bool Pty, NetworkAccess? Network, bool Proxy, bool Oidc);

    /// <summary>The engine's sidecar spec; secrets become environment variables (ids, then sources, then inline env).</summary>
    /// <exception cref="EngineException">An option the local engine does not offer for sidecars (INVALID_ARGUMENT, naming it).</exception>
    public static async Task<SidecarSpec> ToSpecAsync(
        string name, string imageId, IEnumerable<string> args, string? workdir, IEnumerable<EnvironmentSource> sources, long memoryMb, Extras extras,
        SecretStore secrets, CancellationToken cancellationToken)
    {
        Refuse(extras.Volumes > 0, "volumes");
        Refuse(extras.CloudBuckets > 0, "cloud bucket mounts");
        Refuse(extras.Pty, "a PTY");
        Refuse(extras.Proxy, "a proxy");
        Refuse(extras.Oidc, "an OIDC identity token");
        // A sidecar is in its sandbox's network namespace: it has the sandbox's network, not one of its own.
        Refuse(extras.Network is { NetworkAccessType: not (NetworkAccess.Types.NetworkAccessType.Unspecified or NetworkAccess.Types.NetworkAccessType.Open) },
            "an outbound network policy of its own (a sidecar shares its sandbox's network here)");
        var environment = await EnvironmentSource.ResolveAsync([.. sources], secrets, cancellationToken).ConfigureAwait(false);
        return new SidecarSpec(name, imageId)
        {
            Args = [.. args],
            Workdir = string.IsNullOrEmpty(workdir) ? null : workdir,
            Environment = environment,
            MemoryMb = memoryMb,
        };
    }

    /// <summary>The router's description of a sidecar.</summary>
    public static TaskContainerInfo ToInfo(Sidecar sidecar)
    {
        var info = new TaskContainerInfo { ContainerId = sidecar.Id, ContainerName = sidecar.Name, Status = sidecar.Result is null ? "running" : "terminated" };
        if (sidecar.Result is { } result)
        {
            info.Result = SandboxTranslation.ToResult(result);
        }

        return info;
    }

    private static void Refuse(bool asked, string what)
    {
        if (asked)
        {
            throw EngineException.Invalid($"Sidecars on the local engine do not take {what}.");
        }
    }
}
