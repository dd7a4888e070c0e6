using System.Globalization;
using Microsoft.Win32.SafeHandles;
using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// An empty network namespace owned by a user namespace of its own, mapped onto the sandboxes' id range, both held by
/// descriptors only. A sandbox that joins the two (instead of making its own user namespace) is root over its network
/// namespace, so its runtime mounts a fresh sysfs for it: the sandbox's <c>/sys/class/net</c> lists its own interfaces.
/// A network namespace owned by the host's user namespace cannot get one from inside the sandbox, and crun then binds
/// the host's <c>/sys</c> instead (every host interface, with its MAC address, visible to sandbox code).
/// </summary>
/// <remarks>
/// A process is needed to make a user namespace (the engine has threads, so it cannot unshare one itself): a short-lived
/// <c>unshare --user --net sh</c> whose maps the engine writes as host root (no newuidmap), whose namespaces it opens,
/// and which then exits. Each namespace pair is a sandbox's own: sandboxes never share a user namespace.
/// </remarks>
internal sealed class OwnedNetworkNamespace : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private OwnedNetworkNamespace(SafeFileHandle network, SafeFileHandle user)
    {
        Network = network;
        User = user;
    }

    /// <summary>The network namespace.</summary>
    public SafeFileHandle Network { get; }

    /// <summary>The user namespace that owns <see cref="Network"/>.</summary>
    public SafeFileHandle User { get; }

    /// <summary>The path through which processes the engine starts reach the user namespace.</summary>
    public string UserPath => NetworkNamespaceFiles.PathOfHeld(User);

    /// <summary>The path through which processes the engine starts reach the network namespace.</summary>
    public string NetworkPath => NetworkNamespaceFiles.PathOfHeld(Network);

    /// <summary>Makes the pair; returns once both are held and the user namespace is mapped onto <paramref name="ids"/>.</summary>
    /// <exception cref="ContainerStartException">The helper failed or took longer than 10 s.</exception>
    public static async Task<OwnedNetworkNamespace> CreateAsync(SandboxIdRange ids, CancellationToken ct)
    {
        // sh says it is in place (the namespaces exist once unshare has exec'ed it), then waits for its stdin to close.
        await using var helper = HostProcesses.Start(new HostProcessStart(HostCheck.FindExecutable("unshare") ?? "unshare",
            ["--user", "--net", "--", "/bin/sh", "-c", "echo in && read -r _"]));
        try
        {
            using (var patience = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                patience.CancelAfter(Patience);
                var line = new byte[3];
                var read = 0;
                try
                {
                    while (read < line.Length && await helper.StandardOutput.ReadAsync(line.AsMemory(read), patience.Token).ConfigureAwait(false) is var n and > 0)
                    {
                        read += n;
                    }
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // too slow: reported below
                }
                if (read < line.Length || !line.AsSpan().SequenceEqual("in\n"u8))
                {
                    helper.Kill();
                    await helper.Exited.ConfigureAwait(false);
                    await helper.OutputClosed.ConfigureAwait(false);
                    throw new ContainerStartException($"Making a network namespace in a user namespace failed: {helper.Stderr.ToString().Trim()}".TrimEnd(':', ' '));
                }
            }

            var pid = helper.Id.ToString(CultureInfo.InvariantCulture);
            // Written as host root: one line each, in a single write, as the kernel requires.
            var map = string.Create(CultureInfo.InvariantCulture, $"0 {ids.HostId} {ids.Size}\n");
            await File.WriteAllTextAsync($"/proc/{pid}/uid_map", map, ct).ConfigureAwait(false);
            await File.WriteAllTextAsync($"/proc/{pid}/gid_map", map, ct).ConfigureAwait(false);
            var user = File.OpenHandle($"/proc/{pid}/ns/user");
            SafeFileHandle network;
            try
            {
                network = File.OpenHandle($"/proc/{pid}/ns/net");
            }
            catch
            {
                user.Dispose();
                throw;
            }
            return new OwnedNetworkNamespace(network, user);
        }
        catch (IOException e)
        {
            throw new ContainerStartException($"Making a network namespace in a user namespace failed: {e.Message}", e);
        }
        finally
        {
            helper.CloseStandardInput();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try { await helper.WaitForExitAsync(grace.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { helper.Kill(); await helper.Exited.ConfigureAwait(false); }
        }
    }

    /// <summary>Closes both descriptors: the namespaces end with their last other user (the sandbox, a bound file).</summary>
    public void Dispose()
    {
        Network.Dispose();
        User.Dispose();
    }
}
