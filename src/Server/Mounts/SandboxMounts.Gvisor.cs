using System.Globalization;
using TypedSandbox.Agent.Protocol;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Mounts;

/// <summary>
/// mountImage/unmountImage under gVisor. gVisor's kernel (the Sentry) keeps its own mount table and reaches host files
/// only through its gofer, so a host mount at the target would stay invisible (the root mount is cached, never
/// revalidated) and could not hide what the target held. Instead the engine mounts the image read-only on the host as
/// an entry of the sandbox's <see cref="GvisorImageShare"/>, and the agent's mount helper, started by the engine with
/// <c>runsc exec --cap CAP_SYS_ADMIN</c>, binds that entry at the target inside the Sentry (an empty directory: a
/// tmpfs there, charged to the sandbox's memory). The sandbox's own processes never hold CAP_SYS_ADMIN and their
/// seccomp profile denies mount, so they can neither mount nor unmount themselves; the share holds only images
/// mounted into this sandbox.
/// </summary>
internal sealed partial class SandboxMounts
{
    private const int HelperInvalid = 2, HelperMissing = 3, HelperNotOurs = 4;
    private const string HelperPrefix = "typedsandbox-mount: ";

    private static async Task<ulong> MountInGvisorAsync(SandboxResources resources, string target, IReadOnlyList<string>? layers,
        MountTable table, CancellationToken ct)
    {
        if (layers is null)
        {
            await RunMountHelperAsync(resources, ["mount-empty", target, EmptyDirectorySize], ct).ConfigureAwait(false);
            return 0;
        }

        var entry = ++table.ShareEntries;
        var name = entry.ToString(CultureInfo.InvariantCulture);
        using (var tree = new Descriptor(ReadOnlyTree(layers)))
        {
            GvisorImageShare.Attach(resources.BundleDirectory, name, tree.Fd);
        }

        try
        {
            await RunMountHelperAsync(resources, ["mount-image", GvisorImageShare.InSandbox(name), target], ct).ConfigureAwait(false);
            return entry;
        }
        catch
        {
            GvisorImageShare.Remove(resources.BundleDirectory, name);
            throw;
        }
    }

    private static async Task UnmountInGvisorAsync(SandboxResources resources, string target, ulong entry, CancellationToken ct)
    {
        var name = entry.ToString(CultureInfo.InvariantCulture);
        await RunMountHelperAsync(resources, entry == 0 ? ["unmount", target] : ["unmount", target, GvisorImageShare.InSandbox(name)], ct)
            .ConfigureAwait(false);
        if (entry != 0)
        {
            GvisorImageShare.Remove(resources.BundleDirectory, name);
        }
    }

    private static async Task RunMountHelperAsync(SandboxResources resources, string[] arguments, CancellationToken ct)
    {
        string[] exec = ["--root", resources.RuntimeRoot, "exec", "--cap", "CAP_SYS_ADMIN", "--user", "0:0", resources.Id];
        var result = await resources.RunRuntimeAsync([.. exec, .. AgentLayout.AgentCommand(["mount-helper", .. arguments])], ct).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return;
        }

        var message = result.Stderr.Split('\n').LastOrDefault(l => l.StartsWith(HelperPrefix, StringComparison.Ordinal)) is { } line
            ? line[HelperPrefix.Length..].Trim()
            : $"runsc exec failed (exit code {result.ExitCode}): {result.Stderr.Trim()}";
        throw result.ExitCode switch
        {
            HelperInvalid => EngineException.Invalid(message),
            HelperMissing => EngineException.NotFound(message),
            HelperNotOurs => EngineException.Precondition(message),
            _ => new IOException("mount helper: " + message),
        };
    }
}
