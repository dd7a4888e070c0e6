using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Per-sandbox runtime, memory snapshots and exit snapshots through Modal's JS SDK, on an engine whose default runtime
/// is crun (so gVisor is chosen per sandbox).
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class SnapshotTests(FeatureEngineFixture fixture)
{
    [Fact]
    public async Task A_restored_memory_snapshot_continues_its_processes_and_answers_execs()
    {
        var result = await fixture.RunAsync("snapshots.mjs", "memory");

        Assert.StartsWith("sn-", result.GetProperty("snapshotId").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(result.GetProperty("originalId").GetString(), result.GetProperty("restoredId").GetString());
        // The token lives only in the counting process's memory: the same token means the same process, continued.
        Assert.True(result.GetProperty("sameToken").GetBoolean());
        Assert.True(result.GetProperty("after").GetInt32() > result.GetProperty("before").GetInt32());
        Assert.Equal("on-disk\n", result.GetProperty("marker").GetString());
        Assert.StartsWith("exec-in-restored\n", result.GetProperty("exec").GetString(), StringComparison.Ordinal);
        // This runsc stops the sandbox it checkpoints: the original has ended.
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, result.GetProperty("originalExit").ValueKind);
    }

    [Fact]
    public async Task A_sandbox_created_without_snapshots_is_refused_a_memory_snapshot()
    {
        var result = await fixture.RunAsync("snapshots.mjs", "snapshot-not-enabled");

        Assert.Contains("experimentalEnableSnapshot", Error(result, "refused"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runtime_gvisor_runs_that_sandbox_under_gVisor_on_a_crun_engine()
    {
        var result = await fixture.RunAsync("snapshots.mjs", "runtime-gvisor");

        // gVisor's own kernel answers /proc/version with a fixed Linux 4.4.0 banner; crun shows the host's kernel.
        Assert.StartsWith("Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016", result.GetProperty("gvisor").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Jan 10 15:06:54 PST 2016", result.GetProperty("plain").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runtime_vm_is_refused_naming_what_the_engine_offers()
    {
        var result = await fixture.RunAsync("snapshots.mjs", "runtime-vm");

        var message = Error(result, "refused");
        Assert.Contains("'vm'", message, StringComparison.Ordinal);
        Assert.Contains("\"gvisor\"", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_exit_snapshot_is_an_image_with_what_the_sandbox_wrote()
    {
        var result = await fixture.RunAsync("snapshots.mjs", "exit-snapshot");

        Assert.StartsWith("im-", result.GetProperty("imageId").GetString(), StringComparison.Ordinal);
        Assert.Equal("written-before-exit\n", result.GetProperty("file").GetString());
        Error(result.GetProperty("refused"), "refused", out var errorClass);
        Assert.Equal("InvalidError", errorClass);
    }
}
