namespace TypedSandbox.Server.Tests.Isolation;

[Collection(SandboxTests.Name)]
public sealed class SnapshotTests(SandboxHost host)
{
    [SkippableFact]
    public async Task A_snapshot_of_the_changes_is_a_layer_that_starts_a_sandbox_in_that_state()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var layer = Path.Combine(host.ScratchDir, "snapshot-" + Guid.NewGuid().ToString("N")[..8]);
        await using (var first = await host.Runtime().StartAsync(host.Spec(), CancellationToken.None))
        {
            var change = await Run.ShAsync(first, "echo new > /root/new.txt && rm /etc/group && mkdir -p /opt/d && echo x > /opt/d/f");
            Assert.Equal(0, change.Exit.ExitCode);

            await first.CopyWritableLayerAsync(layer, CancellationToken.None);

            // The sandbox was thawed again.
            Assert.Equal("alive\n", (await Run.ExecAsync(first, "echo", "alive")).Out);
        }

        var spec = host.Spec() with { LayerDirs = [layer, host.LayerDir] };
        await using var second = await host.Runtime().StartAsync(spec, CancellationToken.None);
        var state = await Run.ShAsync(second, "cat /root/new.txt /opt/d/f; test -e /etc/group && echo group-still-there; cat /etc/passwd");

        Assert.Equal("new\nx\nroot:x:0:0:root:/root:/bin/sh\n", state.Out);
    }
}
