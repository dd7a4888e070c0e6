namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>Volumes and secrets through the client against the real engine.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class VolumeAndSecretTests(EngineFixture fixture)
{
    [Fact]
    public async Task A_volume_keeps_files_between_sandboxes_and_mounts_read_only_when_asked()
    {
        var name = "vol-" + Guid.NewGuid().ToString("N")[..8];
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Volumes.FromNameAsync(name));
        var volume = await fixture.Client.Volumes.FromNameAsync(name, createIfMissing: true);

        await using (var writer = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Volumes = new Dictionary<string, Volume> { ["/data"] = volume } }))
        {
            Assert.Equal(0, (await writer.RunAsync(["sh", "-c", "echo kept > /data/file && sync"])).ExitCode);
        }

        await using var reader = await fixture.CreateSandboxAsync(new SandboxCreateOptions
        {
            Volumes = new Dictionary<string, Volume> { ["/ro"] = (await fixture.Client.Volumes.FromNameAsync(name)).AsReadOnly() },
        });
        Assert.Equal("kept\n", (await reader.RunAsync(["cat", "/ro/file"])).Stdout);
        Assert.NotEqual(0, (await reader.RunAsync(["sh", "-c", "echo nope > /ro/other"])).ExitCode);
    }

    [Fact]
    public async Task In_code_secrets_and_env_reach_the_sandbox()
    {
        var secret = fixture.Client.Secrets.FromDictionary(new Dictionary<string, string> { ["API_KEY"] = "k-123" });

        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions
        {
            Secrets = [secret],
            Env = new Dictionary<string, string> { ["MODE"] = "test" },
        });

        Assert.Equal("k-123 test\n", (await sandbox.RunAsync(["sh", "-c", "echo $API_KEY $MODE"])).Stdout);
    }

    [Fact]
    public async Task A_missing_named_secret_is_NotFound()
    {
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Secrets.FromNameAsync("no-such-secret-" + Guid.NewGuid().ToString("N")[..8]));
    }
}
