using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Server.Secrets;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Published images, deletions and environments through the C# client (<c>TypedSandbox.Runtime</c>) against the real
/// engine: the same behaviour <see cref="ObjectLifecycleTests"/> shows through Modal's JS SDK.
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class ClientObjectLifecycleTests(FeatureEngineFixture engine)
{
    [Fact]
    public async Task A_published_image_resolves_by_name_and_a_deleted_image_starts_no_sandbox()
    {
        await using var session = await ClientSession.StartAsync(engine);
        var marker = Guid.NewGuid().ToString("N")[..10];
        var image = await session.Client.Images.FromRegistry("busybox:latest").RunCommands($"echo {marker} > /marker").BuildAsync(session.App);
        var imageId = image.ImageId!;

        await session.Client.Images.PublishAsync(image, $"client-{marker}:v1");

        Assert.Equal(imageId, (await session.Client.Images.FromNameAsync($"client-{marker}:v1")).ImageId);
        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Images.FromNameAsync($"client-{marker}"));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => session.Client.Images.FromNameAsync("im-reserved"));

        await session.Client.Images.DeleteAsync(imageId);

        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Images.FromNameAsync($"client-{marker}:v1"));
        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Images.FromIdAsync(imageId));
        var refused = await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Sandboxes.CreateAsync(session.App, image));
        Assert.Contains(imageId, refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Images.DeleteAsync(imageId));
        Assert.False(File.Exists(Path.Combine(session.Engine.StateDirectory, "images", "images", imageId + ".json")));
    }

    [Fact]
    public async Task Deleting_a_volume_refuses_while_mounted_and_then_removes_it_and_a_secret_goes_too()
    {
        await using var session = await ClientSession.StartAsync(engine);
        var name = "client-" + Guid.NewGuid().ToString("N")[..8];
        var volume = await session.Client.Volumes.FromNameAsync(name, createIfMissing: true);
        await using (var sandbox = await session.CreateSandboxAsync(new SandboxCreateOptions { Volumes = new Dictionary<string, Volume> { ["/data"] = volume } }))
        {
            var refused = await Assert.ThrowsAsync<ConflictException>(() => session.Client.Volumes.DeleteAsync(name));
            Assert.Contains(sandbox.SandboxId, refused.Message, StringComparison.Ordinal);
        }

        await session.Client.Volumes.DeleteAsync(name);

        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Volumes.FromNameAsync(name));
        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Volumes.DeleteAsync(name));
        await session.Client.Volumes.DeleteAsync(name, allowMissing: true);
        Assert.DoesNotContain(Directory.GetDirectories(session.Engine.StateDirectory), d => Directory.Exists(Path.Combine(d, "volumes", volume.VolumeId)));

        await session.Engine.Host.Services.GetRequiredService<SecretStore>().PutNamedAsync("", name, new Dictionary<string, string> { ["K"] = "v" }, CancellationToken.None);
        await session.Client.Secrets.DeleteAsync(name);
        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Secrets.FromNameAsync(name));
        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Secrets.DeleteAsync(name));
    }

    [Fact]
    public async Task Environments_are_created_listed_scoped_and_deleted_with_their_objects()
    {
        await using var session = await ClientSession.StartAsync(engine);
        var environment = "client-env-" + Guid.NewGuid().ToString("N")[..8];
        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Environments.FromNameAsync(environment));
        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Apps.FromNameAsync("scoped", createIfMissing: true, environment: environment));

        await session.Client.Environments.CreateAsync(environment);

        await Assert.ThrowsAsync<AlreadyExistsException>(() => session.Client.Environments.CreateAsync(environment));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => session.Client.Environments.CreateAsync("en-reserved"));
        var listed = await session.Client.Environments.ListAsync();
        Assert.True(listed[0] is { Name: "main", IsDefault: true, EnvironmentId: "en-main" });
        Assert.Contains(listed, e => e.Name == environment && !e.IsDefault);
        var mainVolume = await session.Client.Volumes.FromNameAsync("scoped", createIfMissing: true);
        var envVolume = await session.Client.Volumes.FromNameAsync("scoped", createIfMissing: true, environment: environment);
        Assert.NotEqual(mainVolume.VolumeId, envVolume.VolumeId);
        var envApp = await session.Client.Apps.FromNameAsync("scoped", createIfMissing: true, environment: environment);
        await using var sandbox = await session.Client.Sandboxes.CreateAsync(envApp, session.Client.Images.FromRegistry("busybox:latest"));

        await session.Client.Environments.DeleteAsync(environment);

        Assert.Equal(137, await sandbox.WaitAsync());
        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Environments.FromNameAsync(environment));
        await Assert.ThrowsAsync<NotFoundException>(() => session.Client.Environments.DeleteAsync(environment));
        await Assert.ThrowsAsync<ConflictException>(() => session.Client.Environments.DeleteAsync("main"));
        Assert.DoesNotContain(await session.Client.Environments.ListAsync(), e => e.Name == environment);
        Assert.Equal(mainVolume.VolumeId, (await session.Client.Volumes.FromNameAsync("scoped")).VolumeId);
        await session.Client.Volumes.DeleteAsync("scoped");
    }

    /// <summary>A client of the feature engine, configured only through options, and the app its sandboxes run in.</summary>
    private sealed class ClientSession(FeatureEngineFixture engine, SandboxClient client, App app) : IAsyncDisposable
    {
        public Testing.TestEngine Engine => engine.Engine;

        public SandboxClient Client => client;

        public App App => app;

        public static async Task<ClientSession> StartAsync(FeatureEngineFixture engine)
        {
            var client = new SandboxClient(new SandboxClientOptions
            {
                ServerUrl = engine.Engine.Url.ToString(),
                TokenId = engine.Engine.Token.Id,
                TokenSecret = engine.Engine.Token.Secret,
                ConfigPath = engine.Engine.ConfigPath,
                LoggerFactory = NullLoggerFactory.Instance,
            });
            try
            {
                return new ClientSession(engine, client, await client.Apps.FromNameAsync("client-objects", createIfMissing: true));
            }
            catch
            {
                await client.DisposeAsync();
                throw;
            }
        }

        public ValueTask DisposeAsync() => client.DisposeAsync();

        public Task<Sandbox> CreateSandboxAsync(SandboxCreateOptions options) =>
            Client.Sandboxes.CreateAsync(App, Client.Images.FromRegistry("busybox:latest"), options);
    }
}
