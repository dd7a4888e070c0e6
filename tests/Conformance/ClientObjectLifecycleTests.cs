using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Server.Secrets;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Published images, deletions and environments through the C# client (<c>TypedSandbox.Runtime</c>) against the real
/// engine: the same behaviour <see cref="ObjectLifecycleTests"/> shows through Modal's JS SDK.
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class ClientObjectLifecycleTests(FeatureEngineFixture engine) : IAsyncLifetime
{
    private readonly ClientFixture _fixture = new(engine);

    public Task InitializeAsync() => _fixture.InitializeAsync();

    public Task DisposeAsync() => _fixture.DisposeAsync().AsTask();

    [Fact]
    public async Task A_published_image_resolves_by_name_and_a_deleted_image_starts_no_sandbox()
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        var image = await _fixture.Client.Images.FromRegistry("busybox:latest").RunCommands($"echo {marker} > /marker").BuildAsync(_fixture.App);
        var imageId = image.ImageId!;

        await _fixture.Client.Images.PublishAsync(image, $"client-{marker}:v1");

        Assert.Equal(imageId, (await _fixture.Client.Images.FromNameAsync($"client-{marker}:v1")).ImageId);
        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Images.FromNameAsync($"client-{marker}"));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => _fixture.Client.Images.FromNameAsync("im-reserved"));

        await _fixture.Client.Images.DeleteAsync(imageId);

        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Images.FromNameAsync($"client-{marker}:v1"));
        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Images.FromIdAsync(imageId));
        var refused = await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Sandboxes.CreateAsync(_fixture.App, image));
        Assert.Contains(imageId, refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Images.DeleteAsync(imageId));
        Assert.False(File.Exists(Path.Combine(_fixture.Engine.StateDirectory, "images", "images", imageId + ".json")));
    }

    [Fact]
    public async Task Deleting_a_volume_refuses_while_mounted_and_then_removes_it_and_a_secret_goes_too()
    {
        var name = "client-" + Guid.NewGuid().ToString("N")[..8];
        var volume = await _fixture.Client.Volumes.FromNameAsync(name, createIfMissing: true);
        await using (var sandbox = await _fixture.CreateSandboxAsync(new SandboxCreateOptions { Volumes = new Dictionary<string, Volume> { ["/data"] = volume } }))
        {
            var refused = await Assert.ThrowsAsync<ConflictException>(() => _fixture.Client.Volumes.DeleteAsync(name));
            Assert.Contains(sandbox.SandboxId, refused.Message, StringComparison.Ordinal);
        }

        await _fixture.Client.Volumes.DeleteAsync(name);

        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Volumes.FromNameAsync(name));
        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Volumes.DeleteAsync(name));
        await _fixture.Client.Volumes.DeleteAsync(name, allowMissing: true);
        Assert.DoesNotContain(Directory.GetDirectories(_fixture.Engine.StateDirectory), d => Directory.Exists(Path.Combine(d, "volumes", volume.VolumeId)));

        await _fixture.Engine.Host.Services.GetRequiredService<SecretStore>().PutNamedAsync("", name, new Dictionary<string, string> { ["K"] = "v" }, CancellationToken.None);
        await _fixture.Client.Secrets.DeleteAsync(name);
        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Secrets.FromNameAsync(name));
        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Secrets.DeleteAsync(name));
    }

    [Fact]
    public async Task Environments_are_created_listed_scoped_and_deleted_with_their_objects()
    {
        var environment = "client-env-" + Guid.NewGuid().ToString("N")[..8];
        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Environments.FromNameAsync(environment));
        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Apps.FromNameAsync("scoped", createIfMissing: true, environment: environment));

        await _fixture.Client.Environments.CreateAsync(environment);

        await Assert.ThrowsAsync<AlreadyExistsException>(() => _fixture.Client.Environments.CreateAsync(environment));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => _fixture.Client.Environments.CreateAsync("en-reserved"));
        var listed = await _fixture.Client.Environments.ListAsync();
        Assert.True(listed[0] is { Name: "main", IsDefault: true, EnvironmentId: "en-main" });
        Assert.Contains(listed, e => e.Name == environment && !e.IsDefault);
        var mainVolume = await _fixture.Client.Volumes.FromNameAsync("scoped", createIfMissing: true);
        var envVolume = await _fixture.Client.Volumes.FromNameAsync("scoped", createIfMissing: true, environment: environment);
        Assert.NotEqual(mainVolume.VolumeId, envVolume.VolumeId);
        var envApp = await _fixture.Client.Apps.FromNameAsync("scoped", createIfMissing: true, environment: environment);
        await using var sandbox = await _fixture.Client.Sandboxes.CreateAsync(envApp, _fixture.Client.Images.FromRegistry("busybox:latest"));

        await _fixture.Client.Environments.DeleteAsync(environment);

        Assert.Equal(137, await sandbox.WaitAsync());
        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Environments.FromNameAsync(environment));
        await Assert.ThrowsAsync<NotFoundException>(() => _fixture.Client.Environments.DeleteAsync(environment));
        await Assert.ThrowsAsync<ConflictException>(() => _fixture.Client.Environments.DeleteAsync("main"));
        Assert.DoesNotContain(await _fixture.Client.Environments.ListAsync(), e => e.Name == environment);
        Assert.Equal(mainVolume.VolumeId, (await _fixture.Client.Volumes.FromNameAsync("scoped")).VolumeId);
        await _fixture.Client.Volumes.DeleteAsync("scoped");
    }

    /// <summary>A client of the feature engine, configured only through options, and the app its sandboxes run in.</summary>
    private sealed class ClientFixture(FeatureEngineFixture engine) : IAsyncDisposable
    {
        private SandboxClient? _client;
        private App? _app;

        public Testing.TestEngine Engine => engine.Engine;

        public SandboxClient Client => _client ?? throw new InvalidOperationException("Not initialized.");

        public App App => _app ?? throw new InvalidOperationException("Not initialized.");

        public async Task InitializeAsync()
        {
            _client = new SandboxClient(new SandboxClientOptions
            {
                ServerUrl = Engine.Url.ToString(),
                TokenId = Engine.Token.Id,
                TokenSecret = Engine.Token.Secret,
                ConfigPath = Engine.ConfigPath,
                LoggerFactory = NullLoggerFactory.Instance,
            });
            _app = await Client.Apps.FromNameAsync("client-objects", createIfMissing: true);
        }

        public async ValueTask DisposeAsync()
        {
            if (_client is not null)
            {
                await _client.DisposeAsync();
            }
        }

        public Task<Sandbox> CreateSandboxAsync(SandboxCreateOptions options) =>
            Client.Sandboxes.CreateAsync(App, Client.Images.FromRegistry("busybox:latest"), options);
    }
}
