namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Sidecars of a gVisor sandbox through the C# client against the real engine: the sidecar is a second container in
/// the sandbox's gVisor sandbox (runsc's multi-container mode), with its own image, the sandbox's loopback (here a
/// blocked network, so runsc runs outside a user namespace of its own; the JS lifecycle in <see cref="SidecarTests"/>
/// covers the open network), its own lifetime, and no runtime state left once it or its sandbox ended.
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
            new SandboxCreateOptions { Runtime = "gvisor", BlockNetwork = true }))
        {
            await sandbox.RunAsync(["sh", "-c", "mkdir -p /www && echo from-main > /www/index.html && httpd -p 127.0.0.1:8000 -h /www"]);

            var helper = await sandbox.Sidecars.CreateAsync("helper", sideImage, new SidecarCreateOptions { Env = new Dictionary<string, string> { ["ROLE"] = "helper" } });
            var seen = await helper.RunAsync(["sh", "-c", "cat /sidecar-file; echo $ROLE; wget -qO- http://127.0.0.1:8000/; dmesg | head -1"]);
            var mainLacks = await sandbox.RunAsync(["sh", "-c", "cat /sidecar-file 2>&1 || echo missing"]);
            var running = await helper.PollAsync();
            await helper.TerminateAsync();
            var code = await helper.WaitAsync();
            var after = await sandbox.RunAsync(["echo", "main runs"]);
            var worker = await sandbox.Sidecars.CreateAsync("worker", sideImage, new SidecarCreateOptions { Command = ["sh", "-c", "exit 5"] });
            var workerCode = await worker.WaitAsync();
            var last = await sandbox.Sidecars.CreateAsync("last", sideImage);
            ids = [helper.ContainerId, worker.ContainerId, last.ContainerId];

            // dmesg shows gVisor's kernel: the sidecar runs in the sandbox's Sentry, not on the host's kernel.
            Assert.StartsWith("sidecar-only\nhelper\nfrom-main\n", seen.Stdout, StringComparison.Ordinal);
            Assert.Contains("gVisor", seen.Stdout, StringComparison.Ordinal);
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
