namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>The client against the real engine (crun by default): a gVisor sandbox on request, memory snapshots, exit snapshots.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class SnapshotAndRuntimeTests(EngineFixture fixture)
{
    [Fact]
    public async Task Runtime_gvisor_runs_the_sandbox_under_gVisor()
    {
        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Runtime = "gvisor" });

        var version = await sandbox.RunAsync(["cat", "/proc/version"]);

        Assert.StartsWith("Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016", version.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_memory_snapshot_restores_into_a_new_sandbox_whose_process_keeps_counting()
    {
        await using var sandbox = await fixture.Client.Sandboxes.CreateAsync(fixture.App, fixture.Client.Images.FromRegistry("python:3.13-slim"),
            new SandboxCreateOptions { ExperimentalEnableSnapshot = true, BlockNetwork = true });
        // The count lives in one Python process's memory; the file only shows it.
        const string counter = "import os, time\nn = 0\nwhile True:\n    n += 1\n    open('/tmp/n.new', 'w').write(str(n))\n    os.replace('/tmp/n.new', '/tmp/n')\n    time.sleep(0.1)\n";
        await sandbox.RunAsync(["sh", "-c", $"nohup python3 -c \"{counter}\" >/dev/null 2>&1 &"]);
        var before = await WaitForCountAsync(sandbox, 5);

        var snapshot = await sandbox.ExperimentalSnapshotAsync();
        await using var restored = await fixture.Client.Sandboxes.ExperimentalFromSnapshotAsync(SandboxSnapshot.FromId(snapshot.SnapshotId));
        var after = await WaitForCountAsync(restored, before + 5);

        Assert.NotEqual(sandbox.SandboxId, restored.SandboxId);
        Assert.True(after > before);
        Assert.Equal("exec\n", (await restored.RunAsync(["echo", "exec"])).Stdout);
    }

    [Fact]
    public async Task An_exit_snapshot_is_an_image_with_what_the_sandbox_wrote()
    {
        var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions
        {
            ExperimentalOptions = new Dictionary<string, string> { ["enable_exit_snapshot"] = "true" },
        });
        await using (sandbox)
        {
            await sandbox.RunAsync(["sh", "-c", "echo from-csharp > /root/exit.txt"]);
            await sandbox.TerminateAsync();
        }

        var image = await sandbox.ExperimentalGetExitSnapshotAsync();
        await using var next = await fixture.Client.Sandboxes.CreateAsync(fixture.App, image);

        Assert.Equal("from-csharp\n", (await next.RunAsync(["cat", "/root/exit.txt"])).Stdout);
    }

    private static async Task<int> WaitForCountAsync(Sandbox sandbox, int atLeast)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var text = (await sandbox.RunAsync(["cat", "/tmp/n"])).Stdout.Trim();
            if (int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= atLeast)
            {
                return n;
            }

            await Task.Delay(100);
        }

        throw new Xunit.Sdk.XunitException($"The count in sandbox {sandbox.SandboxId} did not reach {atLeast}.");
    }
}
