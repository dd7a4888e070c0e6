using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.Volumes;
using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// The lifecycle of named objects through Modal's JS SDK: published images and their deletion (layers reclaimed on
/// disk, shared ones kept), volume and secret deletion, environments holding their own apps, volumes and secrets.
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class ObjectLifecycleTests(FeatureEngineFixture fixture)
{
    [Fact]
    public async Task A_published_image_resolves_by_name_and_a_deleted_one_is_gone_with_its_unshared_layers()
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        var variables = new Dictionary<string, string> { ["MARKER"] = marker };

        var published = await fixture.RunAsync("objects.mjs", "publish", variables);

        var doomed = published.GetProperty("doomed").GetString()!;
        var kept = published.GetProperty("kept").GetString()!;
        Assert.Equal(doomed, published.GetProperty("byTag").GetString());
        Assert.Equal(kept, published.GetProperty("byLatest").GetString());
        AssertFailed(published, "unpublished", "NotFoundError", $"objects-{marker}:v2");
        AssertFailed(published, "otherEnvironment", "NotFoundError", "Environment 'no-such-environment' not found");
        var doomedLayers = LayersOf(doomed);
        var keptLayers = LayersOf(kept);
        var shared = doomedLayers.Intersect(keptLayers).ToList();
        var own = doomedLayers.Except(keptLayers).ToList();
        Assert.NotEmpty(shared);
        Assert.NotEmpty(own);

        var result = await fixture.RunAsync("objects.mjs", "delete-image", variables);

        var running = result.GetProperty("running");
        Assert.True(running.GetProperty("deleted").GetProperty("ok").GetBoolean(), running.ToString());
        Assert.Equal($"doomed-{marker}\n", running.GetProperty("stillReads").GetProperty("stdout").GetString());
        AssertFailed(result, "byName", "NotFoundError", $"objects-{marker}:v1");
        AssertFailed(result, "byId", "NotFoundError", $"Could not find image with ID {doomed}");
        // The SDK passes SandboxCreate's NOT_FOUND on as a plain ClientError (code 5).
        var create = Failure(result.GetProperty("create"), "create");
        Assert.Equal(5, create.Code);
        Assert.Contains($"Could not find image with ID {doomed}", create.Message, StringComparison.Ordinal);
        AssertFailed(result, "again", "NotFoundError", $"Could not find image with ID {doomed}");
        Assert.True(result.GetProperty("otherDeleted").GetProperty("ok").GetBoolean());
        Assert.Equal($"kept-{marker}\n", result.GetProperty("keptReads").GetProperty("stdout").GetString());

        Assert.False(File.Exists(ImageRecordPath(doomed)));
        Assert.False(File.Exists(ImageRecordPath(result.GetProperty("other").GetString()!)));
        Assert.All(own, layer => Assert.False(Directory.Exists(layer), $"{layer} was not reclaimed"));
        Assert.All(keptLayers, layer => Assert.True(Directory.Exists(layer), $"{layer} of the kept image is gone"));
    }

    [Fact]
    public async Task A_deleted_volume_and_secret_are_gone_and_a_mounted_volume_is_not_deleted()
    {
        var name = "doomed-" + Guid.NewGuid().ToString("N")[..8];
        await FeatureEngineFixture.CreateSecretAsync(fixture.Engine, name, new Dictionary<string, string> { ["TOKEN"] = "t" });

        var result = await fixture.RunAsync("objects.mjs", "delete-volume-and-secret", new Dictionary<string, string> { ["VOLUME"] = name, ["SECRET_NAME"] = name });

        var volumeId = result.GetProperty("volumeId").GetString()!;
        var whileMounted = Failure(result.GetProperty("whileMounted"), "whileMounted");
        Assert.Equal(9, whileMounted.Code); // FAILED_PRECONDITION
        Assert.Contains($"Volume {volumeId} is mounted by running sandbox(es) sb-", whileMounted.Message, StringComparison.Ordinal);
        Assert.True(result.GetProperty("deleted").GetProperty("ok").GetBoolean(), result.GetProperty("deleted").ToString());
        AssertFailed(result, "lookup", "NotFoundError", $"Volume '{name}' not found");
        AssertFailed(result, "again", "NotFoundError", $"Volume '{name}' not found");
        Assert.True(result.GetProperty("allowMissing").GetProperty("ok").GetBoolean());
        Assert.NotEqual(volumeId, result.GetProperty("newId").GetString());
        Assert.Equal("", result.GetProperty("fresh").GetProperty("stdout").GetString());
        var live = await fixture.Engine.Host.Services.GetRequiredService<VolumeStore>().GetOrCreateNamedAsync("", name + "-live", createIfMissing: true, CancellationToken.None);
        Assert.True(VolumeDirectoryExists(live), "a live volume's directory is not where the test looks");
        Assert.False(VolumeDirectoryExists(volumeId), $"the files of {volumeId} were not reclaimed");
        Assert.False(VolumeDirectoryExists(result.GetProperty("newId").GetString()!));

        Assert.True(result.GetProperty("secretDeleted").GetProperty("ok").GetBoolean(), result.GetProperty("secretDeleted").ToString());
        AssertFailed(result, "secretLookup", "NotFoundError", $"Secret '{name}' not found");
        AssertFailed(result, "secretAgain", "NotFoundError", $"Secret '{name}' not found");
        Assert.True(result.GetProperty("secretAllowMissing").GetProperty("ok").GetBoolean());
        var secrets = await fixture.Engine.Host.Services.GetRequiredService<SecretStore>().ListNamedAsync("main", CancellationToken.None);
        Assert.DoesNotContain(secrets, s => s.Name == name);
    }

    [Fact]
    public async Task Environments_scope_apps_volumes_and_secrets_and_deleting_one_removes_everything_in_it()
    {
        var environment = "staging-" + Guid.NewGuid().ToString("N")[..8];
        var secretName = "objects-secret-" + environment;
        var store = fixture.Engine.Host.Services.GetRequiredService<SecretStore>();
        await store.PutNamedAsync("", secretName, new Dictionary<string, string> { ["OBJECTS_VALUE"] = "in-main" }, CancellationToken.None);
        await store.PutNamedAsync(environment, secretName, new Dictionary<string, string> { ["OBJECTS_VALUE"] = "in-" + environment }, CancellationToken.None);

        var result = await fixture.RunAsync("objects.mjs", "environments", new Dictionary<string, string> { ["ENVIRONMENT"] = environment, ["SECRET_NAME"] = secretName });

        Assert.Equal("en-main", result.GetProperty("mainId").GetString());
        Assert.Equal("main", result.GetProperty("mainName").GetString());
        AssertFailed(result, "unknown", "NotFoundError", $"Environment '{environment}' not found");
        AssertFailed(result, "duplicate", "AlreadyExistsError", $"Environment '{environment}' already exists");
        Assert.Contains("INVALID_ARGUMENT: Invalid Environment name: 'bad name'", Error(result, "badName"), StringComparison.Ordinal);
        Assert.Equal("main", result.GetProperty("listed")[0].GetString());
        Assert.Contains(environment, Strings(result, "listed"));
        foreach (var pair in new[] { "apps", "volumes", "secrets" })
        {
            var ids = Strings(result, pair);
            Assert.NotEqual(ids[0], ids[1]);
        }

        Assert.Equal([Strings(result, "apps")[1]], Strings(result, "appsInEnv"));
        AssertFailed(result, "unknownApp", "NotFoundError", "");
        Assert.Equal($"in-{environment}\n", result.GetProperty("seen").GetString());
        Assert.True(result.GetProperty("deleted").GetProperty("ok").GetBoolean(), result.GetProperty("deleted").ToString());
        Assert.Equal(137, result.GetProperty("exitCode").GetInt32());
        Assert.DoesNotContain(environment, Strings(result, "after"));
        AssertFailed(result, "volumeAfter", "NotFoundError", "");
        AssertFailed(result, "appAfter", "NotFoundError", "");
        Assert.True(result.GetProperty("mainVolumeKept").GetBoolean());
        Assert.True(result.GetProperty("mainSecretKept").GetBoolean());
        Assert.Equal(9, Failure(result.GetProperty("deleteMain"), "deleteMain").Code);
        AssertFailed(result, "deleteUnknown", "NotFoundError", $"Environment '{environment}' not found");
        Assert.False(VolumeDirectoryExists(Strings(result, "volumes")[1]), "the environment's volume files were not reclaimed");
        Assert.DoesNotContain(await store.ListNamedAsync(environment, CancellationToken.None), s => s.Name == secretName);
    }

    private static List<string> Strings(JsonElement result, string name) =>
        [.. result.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];

    private string ImageStoreRoot => Path.Combine(fixture.Engine.StateDirectory, "images");

    private string ImageRecordPath(string imageId) => Path.Combine(ImageStoreRoot, "images", imageId + ".json");

    /// <summary>The layer directories of a built image, as its record in the state directory names them.</summary>
    private List<string> LayersOf(string imageId)
    {
        using var record = JsonDocument.Parse(File.ReadAllBytes(ImageRecordPath(imageId)));
        var names = record.RootElement.GetProperty("Layers").EnumerateArray().Select(e => e.GetString()!).ToList();
        var layerRoots = Directory.GetDirectories(ImageStoreRoot, "layers*");
        return [.. names.Select(n => layerRoots.Select(r => Path.Combine(r, n)).Single(Directory.Exists))];
    }

    /// <summary>Whether a volume's directory exists in the engine's size-limited storage (<c>&lt;state&gt;/*/volumes/&lt;id&gt;</c>).</summary>
    private bool VolumeDirectoryExists(string volumeId) =>
        Directory.GetDirectories(fixture.Engine.StateDirectory).Any(d => Directory.Exists(Path.Combine(d, "volumes", volumeId)));
}
