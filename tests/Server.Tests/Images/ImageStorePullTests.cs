using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>One loopback docker-registry shared by the pull tests of a class.</summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    internal TestRegistry Registry { get; private set; } = null!;

    public async Task InitializeAsync() => Registry = await TestRegistry.StartAsync();

    public async Task DisposeAsync() => await Registry.DisposeAsync();
}

/// <summary>Pulls through <see cref="ImageStore"/> from a real registry process on 127.0.0.1.</summary>
public sealed class ImageStorePullTests : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly TestRegistry _registry;
    private readonly TempDirectory _state = new("images");

    public ImageStorePullTests(RegistryFixture fixture) => _registry = fixture.Registry;

    public void Dispose() => _state.Dispose();

    private ImageStore NewStore(IReadOnlyList<RegistryMirror>? mirrors = null) =>
        new(new ImageStoreOptions { StateDirectory = Path.Combine(_state.Path, "state"), RegistryMirrors = mirrors ?? [] },
            new ChrootBuildStepExecutor(), NullLogger<ImageStore>.Instance);

    private static TestLayer BaseLayer() => LayerBuilder.BusyboxRootfs()
        .File("etc/removed.txt", "gone soon")
        .Dir("opt")
        .Dir("opt/data")
        .File("opt/data/a.txt", "a")
        .File("opt/data/b.txt", "b")
        .File("home-file", "private", mode: 0b110_000_000, uid: 1000, gid: 1001)
        .File("bin/setuid-tool", "#!/bin/sh\n", mode: 0b100_111_101_101)
        .HardLink("etc/passwd-link", "etc/passwd")
        .Build();

    private static TestLayer TopLayer() => new LayerBuilder()
        .Dir("etc")
        .Whiteout("etc/removed.txt")
        .Dir("opt/data")
        .Opaque("opt/data")
        .File("opt/data/c.txt", "c")
        .File("etc/added.txt", "added")
        .Build();

    [Fact]
    public async Task Pull_TwoLayers_KeepsFilesModesOwnersLinksAndHonoursWhiteouts()
    {
        await _registry.PushImageAsync("test/two-layers", "v1", [BaseLayer(), TopLayer()],
            new { Env = new[] { "PATH=/bin", "FOO=bar" }, Cmd = new[] { "/bin/sh" }, WorkingDir = "/opt", User = "nobody" });
        using var store = NewStore();
        var log = new ListBuildLog();

        var image = await store.GetOrBuildAsync([$"FROM {_registry.Address}/test/two-layers:v1"], log, CancellationToken.None);

        Assert.StartsWith("im-", image.ImageId, StringComparison.Ordinal);
        Assert.Equal(2, image.LayerDirs.Count);
        var (top, bottom) = (image.LayerDirs[0], image.LayerDirs[1]);
        Assert.True(File.Exists(Path.Combine(top, "etc/added.txt")));
        Assert.True(File.Exists(Path.Combine(bottom, "bin/busybox")));

        var whiteout = FileProbe.Stat(Path.Combine(top, "etc/removed.txt"));
        Assert.Equal(("character special file", 0, 0), (whiteout.Type, whiteout.Major, whiteout.Minor));
        Assert.Equal("y", FileProbe.GetXattr(Path.Combine(top, "opt/data"), "trusted.overlay.opaque"));
        Assert.False(File.Exists(Path.Combine(top, "opt/data/.wh..wh..opq")));

        var private_ = FileProbe.Stat(Path.Combine(bottom, "home-file"));
        Assert.Equal(("600", 1000, 1001), (private_.Mode, private_.Uid, private_.Gid));
        Assert.Equal("4755", FileProbe.Stat(Path.Combine(bottom, "bin/setuid-tool")).Mode);
        Assert.Equal("symbolic link", FileProbe.Stat(Path.Combine(bottom, "bin/sh")).Type);
        Assert.Equal("busybox", new FileInfo(Path.Combine(bottom, "bin/sh")).LinkTarget);
        Assert.Equal(2, FileProbe.Stat(Path.Combine(bottom, "etc/passwd-link")).Links);
        Assert.Equal("1777", FileProbe.Stat(Path.Combine(bottom, "tmp")).Mode);

        var merged = FileProbe.MergedFiles(image.LayerDirs, _state.Path);
        Assert.DoesNotContain("etc/removed.txt", merged);
        Assert.DoesNotContain("opt/data/a.txt", merged);
        Assert.DoesNotContain("opt/data/b.txt", merged);
        Assert.Contains("opt/data/c.txt", merged);
        Assert.Contains("etc/added.txt", merged);
        Assert.Contains("etc/passwd", merged);

        Assert.Equal(["PATH=/bin", "FOO=bar"], image.Config.Env);
        Assert.Equal(["/bin/sh"], image.Config.Cmd);
        Assert.Null(image.Config.Entrypoint);
        Assert.Equal("/opt", image.Config.WorkingDir);
        Assert.Equal("nobody", image.Config.User);
        Assert.Contains(log.Lines, l => l.StartsWith("Downloading layer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pull_ImageIndex_PicksThisMachinesPlatform()
    {
        var mine = OciPlatform.Current.Architecture;
        var other = mine == "amd64" ? "arm64" : "amd64";
        await _registry.PushIndexAsync("test/multi-arch", "1.0",
        [
            (other, [new LayerBuilder().File("arch.txt", other).Build()]),
            (mine, [new LayerBuilder().File("arch.txt", mine).Build()]),
        ]);
        using var store = NewStore();

        var image = await store.GetOrBuildAsync([$"FROM {_registry.Address}/test/multi-arch:1.0"], new ListBuildLog(), CancellationToken.None);

        Assert.Equal(mine, File.ReadAllText(Path.Combine(Assert.Single(image.LayerDirs), "arch.txt")));
    }

    [Fact]
    public async Task Pull_ByDigest_Works_AndAWrongDigestIsNotFound()
    {
        var digest = await _registry.PushImageAsync("test/by-digest", "v1", [new LayerBuilder().File("x", "1").Build()]);
        using var store = NewStore();

        var image = await store.GetOrBuildAsync([$"FROM {_registry.Address}/test/by-digest@{digest}"], new ListBuildLog(), CancellationToken.None);
        Assert.True(File.Exists(Path.Combine(image.LayerDirs[0], "x")));

        var missing = "sha256:" + new string('0', 64);
        await Assert.ThrowsAsync<ImageNotFoundException>(() =>
            store.GetOrBuildAsync([$"FROM {_registry.Address}/test/by-digest@{missing}"], new ListBuildLog(), CancellationToken.None));
    }

    [Fact]
    public async Task Pull_ZstdLayer()
    {
        await _registry.PushImageAsync("test/zstd", "v1", [new LayerBuilder().Dir("etc").File("etc/zstd.txt", "squeezed").Build(zstd: true)]);
        using var store = NewStore();

        var image = await store.GetOrBuildAsync([$"FROM {_registry.Address}/test/zstd:v1"], new ListBuildLog(), CancellationToken.None);

        Assert.Equal("squeezed", File.ReadAllText(Path.Combine(image.LayerDirs[0], "etc/zstd.txt")));
    }

    [Fact]
    public async Task ConcurrentBuilds_OfTheSameImage_PullOnce()
    {
        await _registry.PushImageAsync("test/concurrent", "v1", [BaseLayer(), TopLayer()]);
        using var store = NewStore();
        var logs = new[] { new ListBuildLog(), new ListBuildLog(), new ListBuildLog() };
        string[] definition = [$"FROM {_registry.Address}/test/concurrent:v1", "ENV A=1"];

        var images = await Task.WhenAll(logs.Select(log => Task.Run(() => store.GetOrBuildAsync(definition, log, CancellationToken.None))));

        Assert.All(images, i => Assert.Equal(images[0], i with { LayerDirs = images[0].LayerDirs, Config = images[0].Config }));
        Assert.All(images, i => Assert.Equal(images[0].LayerDirs, i.LayerDirs));
        Assert.Equal(2, logs.Sum(l => l.Lines.Count(line => line.StartsWith("Downloading layer", StringComparison.Ordinal))));
        Assert.Equal(1, logs.Sum(l => l.Lines.Count(line => line.StartsWith("Resolving", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task MirrorIsUsed_ForDockerHubLibraryReference()
    {
        await _registry.PushImageAsync("library/tsb-mirror-test", "3", [new LayerBuilder().File("from-mirror", "yes").Build()]);
        using var store = NewStore([RegistryMirror.Parse($"http://{_registry.Address}")]);
        var log = new ListBuildLog();

        var image = await store.GetOrBuildAsync(["FROM tsb-mirror-test:3"], log, CancellationToken.None);

        Assert.True(File.Exists(Path.Combine(image.LayerDirs[0], "from-mirror")));
        Assert.Contains(log.Lines, l => l.Contains($"mirror http://{_registry.Address}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CorruptedBlob_IsRejected_AndLeavesNothingBehind()
    {
        var layer = new LayerBuilder().File("payload", new string('x', 4096)).Build();
        await _registry.PushImageAsync("test/corrupt", "v1", [layer]);
        var data = _registry.BlobDataPath(layer.Digest);
        var bytes = File.ReadAllBytes(data);
        bytes[^10] ^= 0xFF; // Same length, different content: only the digest check can notice.
        File.WriteAllBytes(data, bytes);
        using var store = NewStore();

        var error = await Assert.ThrowsAsync<ImageIntegrityException>(() =>
            store.GetOrBuildAsync([$"FROM {_registry.Address}/test/corrupt:v1"], new ListBuildLog(), CancellationToken.None));

        Assert.Contains(layer.Digest, error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_state.Path, "state", "layers")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_state.Path, "state", "tmp")));
    }

    [Fact]
    public async Task UnknownImage_ThrowsNotFound_NamingTheReference()
    {
        using var store = NewStore();

        var error = await Assert.ThrowsAsync<ImageNotFoundException>(() =>
            store.GetOrBuildAsync([$"FROM {_registry.Address}/nobody/missing:1.2"], new ListBuildLog(), CancellationToken.None));

        Assert.Contains($"{_registry.Address}/nobody/missing:1.2", error.Message, StringComparison.Ordinal);
        Assert.Equal($"{_registry.Address}/nobody/missing:1.2", error.Reference);
    }

    [Fact]
    public async Task RunSteps_BecomeLayers_EnvAndWorkdirChangeTheConfig()
    {
        await _registry.PushImageAsync("test/busybox", "v1", [LayerBuilder.BusyboxRootfs().File("etc/removeme", "x").Build()],
            new { Env = new[] { "PATH=/bin" }, Cmd = new[] { "sh" } });
        using var store = NewStore();
        var log = new ListBuildLog();

        var image = await store.GetOrBuildAsync(
        [
            $"FROM {_registry.Address}/test/busybox:v1",
            "ENV GREETING=hello NAME=\"big world\"",
            "WORKDIR /work",
            "RUN echo \"$GREETING $NAME\" > out.txt && rm /etc/removeme",
            "ENV GREETING=${GREETING}-again",
        ], log, CancellationToken.None);

        Assert.Equal(3, image.LayerDirs.Count); // busybox, the WORKDIR directory, the RUN changes
        Assert.True(Directory.Exists(Path.Combine(image.LayerDirs[1], "work")));
        Assert.Equal("hello big world\n", File.ReadAllText(Path.Combine(image.LayerDirs[0], "work/out.txt")));
        Assert.Equal("character special file", FileProbe.Stat(Path.Combine(image.LayerDirs[0], "etc/removeme")).Type);
        Assert.DoesNotContain("etc/removeme", FileProbe.MergedFiles(image.LayerDirs, _state.Path));
        Assert.Equal(["PATH=/bin", "NAME=big world", "GREETING=hello-again"], image.Config.Env);
        Assert.Equal("/work", image.Config.WorkingDir);
        Assert.Equal(["sh"], image.Config.Cmd);

        // A forced rebuild runs the step again into a new layer; the image ID stays the same.
        var forced = await store.GetOrBuildAsync(
        [
            $"FROM {_registry.Address}/test/busybox:v1",
            "ENV GREETING=hello NAME=\"big world\"",
            "WORKDIR /work",
            "RUN echo \"$GREETING $NAME\" > out.txt && rm /etc/removeme",
            "ENV GREETING=${GREETING}-again",
        ], log, forceBuild: true, CancellationToken.None);
        Assert.Equal(image.ImageId, forced.ImageId);
        Assert.NotEqual(image.LayerDirs[0], forced.LayerDirs[0]);
        Assert.Equal("hello big world\n", File.ReadAllText(Path.Combine(forced.LayerDirs[0], "work/out.txt")));

        // FROM an image ID built before resolves from the store, with its layers and config.
        image = forced;
        var derived = await store.GetOrBuildAsync([$"FROM {image.ImageId}", "CMD [\"cat\", \"out.txt\"]"], log, CancellationToken.None);
        Assert.Equal(image.LayerDirs, derived.LayerDirs);
        Assert.Equal(["cat", "out.txt"], derived.Config.Cmd);
        Assert.Equal("/work", derived.Config.WorkingDir);
    }

    [Fact]
    public async Task Snapshot_OfASandboxUpperDir_BecomesAnImageUsableInFrom()
    {
        await _registry.PushImageAsync("test/snapshot-base", "v1", [new LayerBuilder().File("base.txt", "base").Build()]);
        using var store = NewStore();
        var parent = await store.GetOrBuildAsync([$"FROM {_registry.Address}/test/snapshot-base:v1"], new ListBuildLog(), CancellationToken.None);
        var upper = Path.Combine(_state.Path, "sandbox-upper");
        Directory.CreateDirectory(upper);
        File.WriteAllText(Path.Combine(upper, "written-in-sandbox.txt"), "state");

        var snapshot = await store.CommitSnapshotAsync(parent, upper, parent.Config with { Cmd = ["sh"] }, CancellationToken.None);

        Assert.NotEqual(parent.ImageId, snapshot.ImageId);
        Assert.Equal(parent.LayerDirs, snapshot.LayerDirs.Skip(1));
        Assert.False(Directory.Exists(upper));
        using var restarted = NewStore();
        Assert.Equal(snapshot.LayerDirs, restarted.TryGet(snapshot.ImageId)?.LayerDirs);
        var derived = await restarted.GetOrBuildAsync([$"FROM {snapshot.ImageId}", "ENV AFTER=snapshot"], new ListBuildLog(), CancellationToken.None);
        Assert.Equal("state", File.ReadAllText(Path.Combine(derived.LayerDirs[0], "written-in-sandbox.txt")));
        Assert.Equal(["sh"], derived.Config.Cmd);
    }

    [Fact]
    public async Task FailingRunStep_ThrowsBuildFailed_WithExitCodeAndOutput()
    {
        await _registry.PushImageAsync("test/busybox-fail", "v1", [LayerBuilder.BusyboxRootfs().Build()], new { Env = new[] { "PATH=/bin" } });
        using var store = NewStore();

        var error = await Assert.ThrowsAsync<ImageBuildFailedException>(() => store.GetOrBuildAsync(
            [$"FROM {_registry.Address}/test/busybox-fail:v1", "RUN echo boom && exit 3"], new ListBuildLog(), CancellationToken.None));

        Assert.Equal(3, error.ExitCode);
        Assert.Equal("RUN echo boom && exit 3", error.Step);
        Assert.Contains("boom", error.LogTail);
        Assert.Contains("exit code 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableRegistry_ThrowsUnavailable()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // Nothing listens there now.
        using var store = NewStore();

        var error = await Assert.ThrowsAsync<ImageRegistryUnavailableException>(() =>
            store.GetOrBuildAsync([$"FROM 127.0.0.1:{port}/x/y:1"], new ListBuildLog(), CancellationToken.None));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadDefinitions_AreRefusedBeforeAnyWork()
    {
        using var store = NewStore();

        await Assert.ThrowsAsync<InvalidImageReferenceException>(() =>
            store.GetOrBuildAsync(["FROM Python:3.13"], new ListBuildLog(), CancellationToken.None));
        var copy = await Assert.ThrowsAsync<InvalidImageDefinitionException>(() =>
            store.GetOrBuildAsync([$"FROM {_registry.Address}/a/b:1", "COPY . /app"], new ListBuildLog(), CancellationToken.None));
        Assert.Contains("COPY is not supported", copy.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ImageNotFoundException>(() =>
            store.GetOrBuildAsync(["FROM im-doesnotexist"], new ListBuildLog(), CancellationToken.None));
    }
}

/// <summary>Tests that need a registry of their own (stopped mid-test, or with authentication).</summary>
public sealed class ImageStoreRegistryLifecycleTests : IDisposable
{
    private readonly TempDirectory _state = new("images");

    public void Dispose() => _state.Dispose();

    private ImageStore NewStore(IReadOnlyList<System.Net.IPNetwork>? allowedNetworks = null) =>
        new(new ImageStoreOptions { StateDirectory = _state.Path, RegistryAllowedNetworks = allowedNetworks ?? [] },
            new ChrootBuildStepExecutor(), NullLogger<ImageStore>.Instance);

    [Fact]
    public async Task SecondBuild_IsACacheHit_AfterRestart_WithTheRegistryGone()
    {
        string reference;
        ImageRecord first;
        await using (var registry = await TestRegistry.StartAsync())
        {
            await registry.PushImageAsync("test/cached", "v1", [new LayerBuilder().File("hello", "hi").Build()]);
            reference = $"{registry.Address}/test/cached:v1";
            using var store = NewStore();
            first = await store.GetOrBuildAsync([$"FROM {reference}"], new ListBuildLog(), CancellationToken.None);
        }

        using var restarted = NewStore();
        var log = new ListBuildLog();
        var second = await restarted.GetOrBuildAsync([$"FROM {reference}"], log, CancellationToken.None);

        Assert.Equal(first.ImageId, second.ImageId);
        Assert.Equal(first.LayerDirs, second.LayerDirs);
        Assert.Equal(first.ImageId, restarted.TryGet(first.ImageId)?.ImageId);
        Assert.Equal($"Image {first.ImageId} is already built", Assert.Single(log.Lines));

        // A new definition on the same base reuses the cached FROM step: still no registry needed.
        var extended = await restarted.GetOrBuildAsync([$"FROM {reference}", "ENV X=1"], log, CancellationToken.None);
        Assert.Equal(first.LayerDirs, extended.LayerDirs);
        Assert.Contains(" ---> Using cache", log.Lines);
    }

    [Fact]
    public async Task TokenAuth_AnonymousBearerTokenIsFetchedAndUsed()
    {
        await using var tokens = new TestTokenServer();
        await using var registry = await TestRegistry.StartAsync(tokenServer: tokens);
        await registry.PushImageAsync("secure/app", "v1", [new LayerBuilder().File("token-ok", "1").Build()]);
        // The token service is another loopback port: reachable only because the operator allows loopback.
        using var store = NewStore([RegistryAddressPolicy.ParseNetwork("127.0.0.0/8")]);

        var image = await store.GetOrBuildAsync([$"FROM {registry.Address}/secure/app:v1"], new ListBuildLog(), CancellationToken.None);

        Assert.True(File.Exists(Path.Combine(image.LayerDirs[0], "token-ok")));
        Assert.Contains("repository:secure/app:pull", tokens.RequestedScopes);
    }

    [Fact]
    public async Task TokenRealmOnAnotherLoopbackPort_IsRefused_WithoutAnOperatorAllowance()
    {
        await using var tokens = new TestTokenServer();
        await using var registry = await TestRegistry.StartAsync(tokenServer: tokens);
        using var store = NewStore();
        var asked = tokens.RequestedScopes.Count; // the test registry's own readiness probe asks too

        var error = await Assert.ThrowsAsync<ImageRegistryUnavailableException>(() =>
            store.GetOrBuildAsync([$"FROM {registry.Address}/secure/app:v1"], new ListBuildLog(), CancellationToken.None));

        Assert.Contains("Refusing to connect", error.Message, StringComparison.Ordinal);
        Assert.Equal(asked, tokens.RequestedScopes.Count);
    }

    [Fact]
    public async Task RegistryRequiringCredentials_ThrowsUnauthorized()
    {
        await using var registry = await TestRegistry.StartAsync(requireBasicAuth: true);
        using var store = NewStore();

        var error = await Assert.ThrowsAsync<ImageRegistryUnauthorizedException>(() =>
            store.GetOrBuildAsync([$"FROM {registry.Address}/private/app:1"], new ListBuildLog(), CancellationToken.None));

        Assert.Contains("needs credentials", error.Message, StringComparison.Ordinal);
    }
}
