using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Server.State;
using TypedSandbox.Server.Volumes;

namespace TypedSandbox.Engine.Tests;

/// <summary>
/// The engine core with a fake runtime, fake time and a real state database in a temporary directory: no root, no
/// OCI runtime. Disposing stops every sandbox and removes the directory.
/// </summary>
internal sealed class EngineCore : IAsyncDisposable
{
    public const string AppId = "ap-test";
    public const string ImageId = "im-test";

    private readonly string _directory;
    private readonly List<StateDatabase> _databases = [];
    private readonly List<SandboxManager> _managers = [];

    private readonly WarmPoolOptions? _pool;

    private EngineCore(string directory, WarmPoolOptions? pool)
    {
        _directory = directory;
        _pool = pool;
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public FakeRuntime Runtime { get; } = new();

    public SandboxManager Sandboxes => _managers[^1];

    public static async Task<EngineCore> StartAsync(WarmPoolOptions? pool = null)
    {
        var core = new EngineCore(Directory.CreateTempSubdirectory("typedsandbox-engine-tests-").FullName, pool);
        await core.RestartAsync();
        return core;
    }

    /// <summary>
    /// Starts another engine core on the same state directory, as after a crash: the previous one is left as it was
    /// (disposed only at the end of the test).
    /// </summary>
    public async Task RestartAsync()
    {
        var database = await StateDatabase.OpenAsync(Path.Combine(_directory, "state.db"), CancellationToken.None);
        _databases.Add(database);
        var volumes = new VolumeStore(database, Path.Combine(_directory, "volumes"), Time);
        _managers.Add(new SandboxManager(Runtime, new Images(), volumes, database, Time, NullLogger<SandboxManager>.Instance, _pool));
    }

    public Task<SandboxSession> CreateAsync(Func<SandboxSpec, SandboxSpec>? configure = null)
    {
        var spec = new SandboxSpec { AppId = AppId, ImageId = ImageId };
        return Sandboxes.CreateAsync(configure?.Invoke(spec) ?? spec, CancellationToken.None);
    }

    public FakeContainer Container(SandboxSession session) => Runtime.Started[session.TaskId];

    /// <summary>Moves time on and applies the lifetime rules as of then.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Time.Advance(by);
        await Sandboxes.SweepAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // A start a failed test left waiting would hold the managers' stop.
        Runtime.Gate?.TrySetResult();
        foreach (var manager in _managers)
        {
            await manager.DisposeAsync();
        }

        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private sealed class Images : IReadyImages
    {
        public Task<ImageRecord> GetReadyAsync(string imageId, CancellationToken cancellationToken) =>
            Task.FromResult(new ImageRecord(imageId, ["/nonexistent/layer"], ImageConfig.Empty));
    }
}
