namespace TypedSandbox.Security.Tests;

/// <summary>
/// A sidecar shares its sandbox's network only: from inside it, the main container's files and processes are out of
/// sight (its own root filesystem and PID namespace), and it runs under the same confinement as the main container
/// (user namespace mapping, seccomp filter, capability set). Under gVisor the sidecar is a second container in the
/// sandbox's gVisor sandbox: the same holds inside gVisor's kernel.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class SidecarIsolationTests(SecurityEngine engine)
{
    [Fact]
    public Task A_sidecar_sees_neither_the_main_containers_files_nor_its_processes_and_is_confined_alike() =>
        SidecarIsolationAttack.RunAsync(engine, gvisor: false);
}

[Collection(RunscAttacks.Name)]
public sealed class RunscSidecarIsolationTests(RunscSecurityEngine engine)
{
    [Fact]
    public Task Under_gVisor_a_sidecar_sees_neither_the_main_containers_files_nor_its_processes_and_is_confined_alike() =>
        SidecarIsolationAttack.RunAsync(engine, gvisor: true);
}

internal static class SidecarIsolationAttack
{
    private const string Look = "cat /root/main-secret 2>&1; cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; echo; ls /proc/*/root/root 2>&1; echo end";
    private const string Confinement = "cat /proc/self/uid_map; grep -E '^(Seccomp|CapEff|CapBnd|NoNewPrivs):' /proc/self/status";

    public static async Task RunAsync(SecurityEngine engine, bool gvisor)
    {
        await using var sandbox = await engine.CreateSandboxAsync();
        var image = await engine.Client.Images.FromRegistry("busybox:latest").RunCommands("echo sidecar > /sidecar-mark").BuildAsync(engine.App);
        var planted = await sandbox.RunAsync(["sh", "-c", "echo main-secret-1011 > /root/main-secret && (sleep 1009 >/dev/null 2>&1 &) && echo planted"]);
        var sidecar = await sandbox.Sidecars.CreateAsync("probe", image);

        var seen = await sidecar.RunAsync(["sh", "-c", Look]);
        var mainConfinement = await sandbox.RunAsync(["sh", "-c", Confinement]);
        var sidecarConfinement = await sidecar.RunAsync(["sh", "-c", Confinement]);
        var mainSees = await sandbox.RunAsync(["sh", "-c", "cat /sidecar-mark 2>&1; cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"]);

        Assert.Equal("planted\n", planted.Stdout);
        Assert.EndsWith("end\n", seen.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("main-secret-1011", seen.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("1009", seen.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("sidecar\n", mainSees.Stdout, StringComparison.Ordinal);
        Assert.Contains("No such file", mainSees.Stdout, StringComparison.Ordinal);
        Assert.Equal(mainConfinement.Stdout, sidecarConfinement.Stdout);
        Assert.Contains("Seccomp:\t2", sidecarConfinement.Stdout, StringComparison.Ordinal);
        if (gvisor)
        {
            // gVisor's kernel shows its own uid map and no NoNewPrivs line; on the host, every process of the sidecar
            // (its runsc and gofer, started in the sandbox's user namespace) runs as the sandbox's unprivileged ids.
            var hostUids = HostUidsOf(sidecar.ContainerId);
            Assert.NotEmpty(hostUids);
            Assert.DoesNotContain(0, hostUids);
        }
        else
        {
            Assert.DoesNotMatch(@"^\s*0\s+0\s", sidecarConfinement.Stdout);
            Assert.Contains("NoNewPrivs:\t1", sidecarConfinement.Stdout, StringComparison.Ordinal);
        }
    }

    // The real uids of host processes whose command line names the container (its runtime, its gofer).
    private static List<int> HostUidsOf(string containerId)
    {
        var uids = new List<int>();
        foreach (var process in Directory.GetDirectories("/proc").Where(d => char.IsAsciiDigit(Path.GetFileName(d)[0])))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(process, "cmdline")).Contains(containerId, StringComparison.Ordinal))
                {
                    var uid = File.ReadLines(Path.Combine(process, "status")).First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
                    uids.Add(int.Parse(uid.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            catch (IOException)
            {
                // ended meanwhile
            }
        }

        return uids;
    }
}
