using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Testing;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// A sandbox claimed from the warm pool is recorded as a cold one is (its own id, name and tags in the state database,
/// written without a disk flush on the create's path), and that record outlives an engine restart. Through our C#
/// client against real engines (<c>--warm-pool 1</c>) sharing one state directory.
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class WarmPoolClaimRecordTests(FeatureEngineFixture fixture)
{
    [Fact]
    public async Task A_claimed_sandbox_keeps_its_own_id_name_and_tags_across_an_engine_restart()
    {
        var state = TestEngine.NewStateDirectory();
        try
        {
            var shape = new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), MemoryMiB = 330 };
            string claimedId;
            await using (var engine = await TestEngine.StartAsync(registry: fixture.Engine.Registry, stateDirectory: state, configure: o => o with { WarmPoolSize = 1 }))
            await using (var client = Client(engine))
            {
                var app = await client.Apps.FromNameAsync("warm-pool-records", createIfMissing: true);
                var image = client.Images.FromRegistry("busybox:latest");
                var manager = engine.Host.Services.GetRequiredService<SandboxManager>();
                // A cold create teaches the pool this shape; it then starts one ahead.
                await using (await client.Sandboxes.CreateAsync(app, image, shape))
                {
                }

                var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
                while (manager.Pool.ReadyCount == 0)
                {
                    Assert.True(DateTime.UtcNow < deadline, "waited a minute for a pooled sandbox");
                    await Task.Delay(20);
                }

                var ready = manager.Pool.ReadyIds;
                var claimed = await client.Sandboxes.CreateAsync(app, image, shape with
                {
                    Name = "claimed-record",
                    Tags = new Dictionary<string, string> { ["role"] = "claimed" },
                });
                claimedId = claimed.SandboxId;
                Assert.Contains(manager.Get(claimedId).TaskId, ready);
                Assert.Equal("hi\n", (await claimed.RunAsync(["echo", "hi"])).Stdout);
                // Left running: the engine's stop ends it.
                await claimed.DetachAsync();
            }

            await using (var restarted = await TestEngine.StartAsync(registry: fixture.Engine.Registry, stateDirectory: state))
            await using (var client = Client(restarted))
            {
                await using var found = await client.Sandboxes.FromIdAsync(claimedId);
                Assert.Equal(137, await found.WaitAsync());
                Assert.Equal("claimed", (await found.GetTagsAsync())["role"]);
            }
        }
        finally
        {
            TestEngine.DeleteStateDirectory(state);
        }
    }

    private static SandboxClient Client(TestEngine engine) => new(new SandboxClientOptions
    {
        ServerUrl = engine.Url.ToString(),
        TokenId = engine.Token.Id,
        TokenSecret = engine.Token.Secret,
        ConfigPath = engine.ConfigPath,
        LoggerFactory = NullLoggerFactory.Instance,
    });
}
