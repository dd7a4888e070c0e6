namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Sidecars of a gVisor sandbox through the C# client against the real engine: the sidecar is a second container in
/// the sandbox's gVisor sandbox (runsc's multi-container mode), with its own image, its own lifetime, and no runtime
/// state left once it or its sandbox ended. Here the network is open, so runsc runs inside the sandbox's user and
/// network namespaces (the sidecar is started from there too) and the sidecar sees the sandbox's interfaces; the JS
/// lifecycle in <see cref="SidecarTests"/> shows the shared loopback with a blocked network.
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class GvisorSidecarTests(FeatureEngineFixture fixture)
{
    // Where the engine's runsc keeps container state: its own root, and the one of sandboxes launched in their user namespace.
    private static readonly string[] RunscRoots = ["/run/typedsandbox/runsc", "/run/typedsandbox/runsc-userns"];

    [Fact]
    public async Task Through_the_CSharp_client_a_gVisor_sandboxs_sidecar_is_created_execd_in_waited_for_and_terminated()
    {
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = fixture.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("sidecars-gvisor-csharp", createIfMissing: true);
        var sideImage = await client.Images.FromRegistry("busybox:latest").RunCommands("echo sidecar-only > /sidecar-file").BuildAsync(app);
        string[] ids;
        await using (var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
            new SandboxCreateOptions { Runtime = "gvisor" }))
        {

            var helper = await sandbox.Sidecars.CreateAsync("helper", sideImage, new SidecarCreateOptions { Env = new Dictionary<string, string> { ["ROLE"] = "helper" } });
            var seen = await helper.RunAsync(["sh", "-c", "cat /sidecar-file; echo $ROLE; uname -r"]);
            var mainKernel = await sandbox.RunAsync(["uname", "-r"]);
            const string Interfaces = "cut -d: -f1 /proc/net/dev | tail -n +3 | tr -d ' ' | sort; cat /etc/resolv.conf";
            var mainNetwork = await sandbox.RunAsync(["sh", "-c", Interfaces]);
            var sidecarNetwork = await helper.RunAsync(["sh", "-c", Interfaces]);
            var mainLacks = await sandbox.RunAsync(["sh", "-c", "cat /sidecar-file 2>&1 || echo missing"]);
            var running = await helper.PollAsync();
            await helper.TerminateAsync();
            var code = await helper.WaitAsync();
            var after = await sandbox.RunAsync(["echo", "main runs"]);
            var worker = await sandbox.Sidecars.CreateAsync("worker", sideImage, new SidecarCreateOptions { Command = ["sh", "-c", "exit 5"] });
            var workerCode = await worker.WaitAsync();
            var last = await sandbox.Sidecars.CreateAsync("last", sideImage);
            ids = [helper.ContainerId, worker.ContainerId, last.ContainerId];

            // The kernel release is gVisor's (the main container's, not the host's): the sidecar runs in the sandbox's kernel.
            Assert.Equal("sidecar-only\nhelper\n" + mainKernel.Stdout, seen.Stdout);
            // The sandbox's network namespace (its slirp4netns interface), seen from both containers.
            Assert.Contains("tap0\n", mainNetwork.Stdout, StringComparison.Ordinal);
            Assert.Equal(mainNetwork.Stdout, sidecarNetwork.Stdout);
            Assert.NotEqual(File.ReadAllText("/proc/sys/kernel/osrelease"), mainKernel.Stdout);
            Assert.Equal("cat: can't open '/sidecar-file': No such file or directory\nmissing\n", mainLacks.Stdout);
            Assert.Null(running);
            Assert.Equal(137, code);
            Assert.Equal("main runs\n", after.Stdout);
            Assert.Equal(5, workerCode);
            await sandbox.TerminateAsync();
            Assert.Equal(137, await last.WaitAsync());
        }

        await HostLeftovers.AssertGoneAsync(ids);
        AssertNoRuntimeState(ids);
    }

    /// <summary>Fails naming any runsc state file (<c>&lt;id&gt;_sandbox:&lt;sandbox id&gt;.state</c>, its lock) of <paramref name="containerIds"/>.</summary>
    internal static void AssertNoRuntimeState(IReadOnlyList<string> containerIds)
    {
        var left = RunscRoots.Where(Directory.Exists)
            .SelectMany(root => containerIds.SelectMany(id => Directory.EnumerateFileSystemEntries(root, id + "*")))
            .ToList();
        Assert.True(left.Count == 0, "runsc state left: " + string.Join("; ", left));
    }
}
