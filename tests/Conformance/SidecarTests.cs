using System.Text.Json;
using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Sidecar containers (Modal's <c>sb.experimentalSidecars</c>) through Modal's JS SDK and through the C# client against
/// the real engine (crun): a container from another image with its own filesystem, sharing the sandbox's loopback both
/// ways, listed and found by name, terminated alone (the sandbox runs on) or with its sandbox (nothing left on the host),
/// bounded to eight per sandbox; and the same lifecycle under gVisor (with a blocked network: see
/// <see cref="GvisorSidecarTests"/> for an open one), where a sidecar is a second container of the sandbox's gVisor sandbox;
/// a memory-snapshot sandbox refuses them.
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class SidecarTests(FeatureEngineFixture fixture)
{
    [Fact]
    public async Task Through_the_JS_SDK_a_sidecar_has_its_own_image_shares_the_loopback_and_ends_alone_or_with_its_sandbox()
    {
        var result = await fixture.RunAsync("sidecars.mjs", "lifecycle", new Dictionary<string, string> { ["TEST_APP"] = "sidecars" });

        await AssertLifecycleAsync(result);
    }

    [Fact]
    public async Task Through_the_JS_SDK_a_gVisor_sandboxs_sidecar_runs_in_that_gVisor_sandbox_with_the_same_lifecycle()
    {
        var result = await fixture.RunAsync("sidecars.mjs", "lifecycle",
            new Dictionary<string, string> { ["TEST_APP"] = "sidecars-gvisor", ["TEST_RUNTIME"] = "gvisor", ["TEST_BLOCK_NETWORK"] = "1" });

        await AssertLifecycleAsync(result);
        GvisorSidecarTests.AssertNoRuntimeState([.. result.GetProperty("ids").EnumerateArray().Select(i => i.GetString()!)]);
    }

    private static async Task AssertLifecycleAsync(JsonElement result)
    {
        Assert.Equal("sidecar-only\n", Stdout(result, "own"));
        Assert.Equal("cat: can't open '/sidecar-file': No such file or directory\nmissing\n", Stdout(result, "mainLacks"));
        Assert.Equal("from-main\n", Stdout(result, "reached"));
        Assert.Equal("from-sidecar\n", Stdout(result, "reverse"));
        Assert.Equal(["helper"], Names(result, "listed"));
        Assert.True(result.GetProperty("got").GetBoolean());
        AssertFailed(result, "duplicate", "AlreadyExistsError", "already runs a sidecar named 'helper'");
        AssertFailed(result, "reserved", "InvalidError", "reserved for the Sandbox's main container");
        AssertFailed(result, "unknown", "NotFoundError", "Sidecar container \"nope\" not found");
        Assert.Equal(JsonValueKind.Null, result.GetProperty("pollRunning").ValueKind);
        Assert.Equal(137, result.GetProperty("terminated").GetInt32());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("sandboxPoll").ValueKind);
        Assert.Equal("main still runs\n", Stdout(result, "mainStill"));
        Assert.Empty(Names(result, "listedAfter"));
        Assert.Equal(["helper"], Names(result, "listedAll"));
        AssertFailed(result, "getTerminated", "NotFoundError", "Sidecar container \"helper\" not found");
        Assert.Contains("has already finished", Error(result, "execTerminated"), StringComparison.Ordinal);
        Assert.Equal(3, result.GetProperty("workerCode").GetInt32());
        Assert.Equal(3, result.GetProperty("workerPoll").GetInt32());
        Assert.Equal(137, result.GetProperty("sandboxCode").GetInt32());
        Assert.Equal(137, result.GetProperty("lastCode").GetInt32());
        Assert.Contains("has already finished", Error(result, "afterSandbox"), StringComparison.Ordinal);
        await HostLeftovers.AssertGoneAsync([.. result.GetProperty("ids").EnumerateArray().Select(i => i.GetString()!)]);
    }

    [Fact]
    public async Task A_sandbox_runs_at_most_eight_sidecars_and_options_the_engine_cannot_honour_are_refused()
    {
        var result = await fixture.RunAsync("sidecars.mjs", "bounded", new Dictionary<string, string> { ["TEST_APP"] = "sidecars-bounded" });

        Assert.Equal(8, result.GetProperty("created").GetArrayLength());
        var ninth = Failure(result.GetProperty("ninth"), "ninth");
        Assert.Equal(8, ninth.Code); // RESOURCE_EXHAUSTED
        Assert.Contains("already runs 8 sidecars, the most one sandbox may run", ninth.Message, StringComparison.Ordinal);
        AssertFailed(result, "badName", "InvalidError", "Sidecar name 'has space' is invalid");
        AssertFailed(result, "withVolume", "InvalidError", "Sidecars on the local engine do not take volumes.");
    }

    [Fact]
    public async Task A_sandbox_with_memory_snapshots_refuses_sidecars_with_failed_precondition_naming_why()
    {
        var result = await fixture.RunAsync("sidecars.mjs", "snapshot-refused", new Dictionary<string, string> { ["TEST_APP"] = "sidecars-snapshot" });

        var refused = Failure(result.GetProperty("refused"), "refused");
        Assert.Equal(9, refused.Code); // FAILED_PRECONDITION
        Assert.Contains("has memory snapshots enabled, and a gVisor checkpoint of it restores its main container only", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Through_the_CSharp_client_a_sidecar_is_created_execd_in_listed_waited_for_and_terminated()
    {
        await using var client = new SandboxClient(new SandboxClientOptions { ConfigPath = fixture.Engine.ConfigPath });
        var app = await client.Apps.FromNameAsync("sidecars-csharp", createIfMissing: true);
        var sideImage = await client.Images.FromRegistry("busybox:latest").RunCommands("echo sidecar-only > /sidecar-file").BuildAsync(app);
        string[] ids;
        await using (var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest")))
        {
            await sandbox.RunAsync(["sh", "-c", "mkdir -p /www && echo from-main > /www/index.html && httpd -p 127.0.0.1:8000 -h /www"]);

            var helper = await sandbox.Sidecars.CreateAsync("helper", sideImage, new SidecarCreateOptions { Env = new Dictionary<string, string> { ["ROLE"] = "helper" }, MemoryMb = 64 });
            var seen = await helper.RunAsync(["sh", "-c", "cat /sidecar-file; echo $ROLE; wget -qO- http://127.0.0.1:8000/; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"]);
            var listed = await sandbox.Sidecars.ListAsync();
            var found = await sandbox.Sidecars.GetAsync("helper");
            var running = await helper.PollAsync();
            await helper.TerminateAsync();
            var code = await helper.WaitAsync();
            var after = await sandbox.RunAsync(["echo", "main runs"]);
            var all = await sandbox.Sidecars.ListAsync(includeTerminated: true);
            var worker = await sandbox.Sidecars.CreateAsync("worker", sideImage, new SidecarCreateOptions { Command = ["sh", "-c", "exit 5"] });
            var workerCode = await worker.WaitAsync();
            var last = await sandbox.Sidecars.CreateAsync("last", sideImage);
            ids = [helper.ContainerId, worker.ContainerId, last.ContainerId];
            var tooBig = await Assert.ThrowsAsync<InvalidArgumentException>(() => sandbox.Sidecars.CreateAsync("big", sideImage, new SidecarCreateOptions { MemoryMb = 4096 }));

            Assert.Equal("sidecar-only\nhelper\nfrom-main\n67108864\n", seen.Stdout);
            Assert.Equal(["helper"], listed.Select(s => s.Name));
            Assert.Equal(helper.ContainerId, found.ContainerId);
            Assert.Null(running);
            Assert.Equal(137, code);
            Assert.Equal("main runs\n", after.Stdout);
            Assert.Equal(["helper"], all.Select(s => s.Name));
            Assert.Equal(5, workerCode);
            Assert.Contains("at most its sandbox's memory (1024 MiB)", tooBig.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<NotFoundException>(() => sandbox.Sidecars.GetAsync("helper"));
            await Assert.ThrowsAsync<ConflictException>(() => helper.RunAsync(["true"]));
            await sandbox.TerminateAsync();
            Assert.Equal(137, await last.WaitAsync());
        }

        await HostLeftovers.AssertGoneAsync(ids);
    }

    private static string? Stdout(JsonElement result, string name) => result.GetProperty(name).GetProperty("stdout").GetString();

    private static string[] Names(JsonElement result, string name) => [.. result.GetProperty(name).EnumerateArray().Select(n => n.GetString()!)];
}
