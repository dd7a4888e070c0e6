namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>
/// gVisor under exec churn. Its host threads count against the sandbox's pids cgroup and this runsc keeps many of those
/// it made; with too little headroom a sandbox that had served two rounds of 100 concurrent execs ended in the third
/// ("the sandbox ended before the process started").
/// </summary>
public sealed class GvisorLoadTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private const int Streams = 100, Rounds = 5, Bytes = 4_000_000;

    [Fact]
    public async Task Under_gVisor_a_sandbox_serves_100_concurrent_execs_round_after_round()
    {
        await using var sandbox = await fixture.Client.Sandboxes.CreateAsync(fixture.App, fixture.Client.Images.FromRegistry("busybox:latest"),
            new SandboxCreateOptions { Runtime = "gvisor", Timeout = TimeSpan.FromMinutes(10) });
        Assert.Equal(0, (await sandbox.RunAsync(["sh", "-c", $"head -c {Bytes} /dev/zero | tr '\\0' b > /tmp/data"])).ExitCode);

        for (var round = 0; round < Rounds; round++)
        {
            var outcomes = await Task.WhenAll(Enumerable.Range(0, Streams).Select(_ => CatAsync(sandbox)));

            Assert.All(outcomes, outcome => Assert.Equal((0, (long)Bytes), outcome));
        }
    }

    private static async Task<(int ExitCode, long Bytes)> CatAsync(Sandbox sandbox)
    {
        await using var process = await sandbox.ExecAsync(["cat", "/tmp/data"]);
        var buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        while ((read = await process.Stdout.ReadAsync(buffer)) > 0)
        {
            Assert.DoesNotContain(buffer.AsSpan(0, read).ToArray(), b => b != (byte)'b');
            total += read;
        }

        return (await process.WaitAsync(), total);
    }
}
