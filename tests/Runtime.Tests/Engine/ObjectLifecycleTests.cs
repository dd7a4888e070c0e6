using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Server.Secrets;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>Published images, deletions and environments through the C# client against the real engine.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class ObjectLifecycleTests(EngineFixture fixture)
{
    [Fact]
    public async Task A_published_image_resolves_by_name_and_a_deleted_image_starts_no_sandbox()
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        var image = await fixture.Client.Images.FromRegistry("busybox:latest").RunCommands($"echo {marker} > /marker").BuildAsync(fixture.App);
        var imageId = image.ImageId!;

        await fixture.Client.Images.PublishAsync(image, $"client-{marker}:v1");

        Assert.Equal(imageId, (await fixture.Client.Images.FromNameAsync($"client-{marker}:v1")).ImageId);
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Images.FromNameAsync($"client-{marker}"));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => fixture.Client.Images.FromNameAsync("im-reserved"));

        await fixture.Client.Images.DeleteAsync(imageId);

        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Images.FromNameAsync($"client-{marker}:v1"));
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Images.FromIdAsync(imageId));
        var refused = await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Sandboxes.CreateAsync(fixture.App, image));
        Assert.Contains(imageId, refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Images.DeleteAsync(imageId));
        Assert.False(File.Exists(Path.Combine(fixture.Engine.StateDirectory, "images", "images", imageId + ".json")));
    }

    [Fact]
    public async Task Deleting_a_volume_refuses_while_mounted_and_then_removes_it_and_a_secret_goes_too()
    {
        var name = "client-" + Guid.NewGuid().ToString("N")[..8];
        var volume = await fixture.Client.Volumes.FromNameAsync(name, createIfMissing: true);
        await using (var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Volumes = new Dictionary<string, Volume> { ["/data"] = volume } }))
        {
            var refused = await Assert.ThrowsAsync<ConflictException>(() => fixture.Client.Volumes.DeleteAsync(name));
            Assert.Contains(sandbox.SandboxId, refused.Message, StringComparison.Ordinal);
        }

        await fixture.Client.Volumes.DeleteAsync(name);

        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Volumes.FromNameAsync(name));
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Volumes.DeleteAsync(name));
        await fixture.Client.Volumes.DeleteAsync(name, allowMissing: true);
        Assert.DoesNotContain(Directory.GetDirectories(fixture.Engine.StateDirectory), d => Directory.Exists(Path.Combine(d, "volumes", volume.VolumeId)));

        await fixture.Engine.Host.Services.GetRequiredService<SecretStore>().PutNamedAsync("", name, new Dictionary<string, string> { ["K"] = "v" }, CancellationToken.None);
        await fixture.Client.Secrets.DeleteAsync(name);
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Secrets.FromNameAsync(name));
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Secrets.DeleteAsync(name));
    }

    [Fact]
    public async Task Environments_are_created_listed_scoped_and_deleted_with_their_objects()
    {
        var environment = "client-env-" + Guid.NewGuid().ToString("N")[..8];
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Environments.FromNameAsync(environment));
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Apps.FromNameAsync("scoped", createIfMissing: true, environment: environment));

        await fixture.Client.Environments.CreateAsync(environment);

        await Assert.ThrowsAsync<AlreadyExistsException>(() => fixture.Client.Environments.CreateAsync(environment));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => fixture.Client.Environments.CreateAsync("en-reserved"));
        var listed = await fixture.Client.Environments.ListAsync();
        Assert.True(listed[0] is { Name: "main", IsDefault: true, EnvironmentId: "en-main" });
        Assert.Contains(listed, e => e.Name == environment && !e.IsDefault);
        var mainVolume = await fixture.Client.Volumes.FromNameAsync("scoped", createIfMissing: true);
        var envVolume = await fixture.Client.Volumes.FromNameAsync("scoped", createIfMissing: true, environment: environment);
        Assert.NotEqual(mainVolume.VolumeId, envVolume.VolumeId);
        var envApp = await fixture.Client.Apps.FromNameAsync("scoped", createIfMissing: true, environment: environment);
        await using var sandbox = await fixture.Client.Sandboxes.CreateAsync(envApp, fixture.Client.Images.FromRegistry("busybox:latest"));

        await fixture.Client.Environments.DeleteAsync(environment);

        Assert.Equal(137, await sandbox.WaitAsync());
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Environments.FromNameAsync(environment));
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Environments.DeleteAsync(environment));
        await Assert.ThrowsAsync<ConflictException>(() => fixture.Client.Environments.DeleteAsync("main"));
        Assert.DoesNotContain(await fixture.Client.Environments.ListAsync(), e => e.Name == environment);
        Assert.Equal(mainVolume.VolumeId, (await fixture.Client.Volumes.FromNameAsync("scoped")).VolumeId);
        await fixture.Client.Volumes.DeleteAsync("scoped");
    }
}
