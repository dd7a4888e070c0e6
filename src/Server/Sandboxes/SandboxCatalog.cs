using TypedSandbox.Server.Engine;
using TypedSandbox.Server.State;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// What is known of every sandbox, running or finished, also before a restart: results, apps, names, tags and
/// listings, from the registry where the sandbox is in memory and from the <see cref="SandboxStore"/> otherwise.
/// </summary>
internal sealed class SandboxCatalog(SandboxRegistry registry, SandboxStore store, TimeProvider clock)
{
    /// <summary>Marks sandboxes that were running when the engine last stopped as terminated; returns how many there were.</summary>
    public Task<int> ReportOrphansAsync(CancellationToken cancellationToken) => ReportOrphansAsync([], cancellationToken);

    /// <summary>Reports sandboxes that were running when the engine stopped as terminated, but <paramref name="running"/> (adopted).</summary>
    public Task<int> ReportOrphansAsync(IReadOnlyList<string> running, CancellationToken cancellationToken) =>
        store.MarkOrphansAsync(clock.GetUtcNow(), running, cancellationToken);

    /// <summary>Finds a sandbox by the id of its task.</summary>
    public SandboxSession GetByTaskId(string taskId) => registry.GetByTaskId(taskId);

    /// <summary>Finds a sandbox of this engine's life by the id of its task, or null.</summary>
    public SandboxSession? TryGetByTaskId(string taskId) => registry.TryGetByTaskId(taskId);

    /// <summary>Finds a running sandbox by app and name.</summary>
    public SandboxSession? FindRunningByName(string appId, string name) => registry.FindByName(appId, name);

    /// <summary>Finds the newest sandbox with this name in the app, finished or not.</summary>
    public Task<string?> FindNewestByNameAsync(string appId, string name, CancellationToken cancellationToken) =>
        store.FindNewestByNameAsync(appId, name, cancellationToken);

    /// <summary>The app a sandbox belongs to (also for one finished before a restart).</summary>
    public async Task<string> GetAppIdAsync(string sandboxId, CancellationToken cancellationToken) =>
        registry.TryGet(sandboxId)?.Spec.AppId
            ?? await store.GetAppIdAsync(sandboxId, cancellationToken).ConfigureAwait(false)
            ?? throw NotFound(sandboxId);

    /// <summary>A sandbox's result, also of one finished before the engine restarted; null while it runs.</summary>
    public async Task<SandboxResult?> GetStoredResultAsync(string sandboxId, CancellationToken cancellationToken)
    {
        var (found, result) = await store.GetResultAsync(sandboxId, cancellationToken).ConfigureAwait(false);
        return found ? result : throw NotFound(sandboxId);
    }

    /// <summary>Names a running sandbox created without a name (the name rules and uniqueness of a name given at create).</summary>
    public async Task SetNameAsync(string sandboxId, string name, CancellationToken cancellationToken)
    {
        EngineRules.Require(EngineRules.CheckObjectName(name, "Sandbox name"));
        var session = registry.Get(sandboxId);
        registry.SetName(session, name);
        await store.SetNameAsync(sandboxId, name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Replaces a sandbox's tags.</summary>
    public async Task SetTagsAsync(string sandboxId, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        SandboxSpecRules.ValidateTags(tags);
        var session = registry.Get(sandboxId);
        session.Tags = tags;
        await store.SetTagsAsync(sandboxId, tags, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A sandbox's tags (also of one finished before a restart).</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetTagsAsync(string sandboxId, CancellationToken cancellationToken) =>
        registry.TryGet(sandboxId)?.Tags
            ?? await store.GetTagsAsync(sandboxId, cancellationToken).ConfigureAwait(false)
            ?? throw NotFound(sandboxId);

    /// <summary>One page of sandboxes, newest first, created strictly before <paramref name="before"/>.</summary>
    public async Task<IReadOnlyList<SandboxListing>> ListAsync(
        string? appId, IReadOnlyDictionary<string, string> tags, DateTimeOffset? before, bool includeFinished, int pageSize, CancellationToken cancellationToken)
    {
        SandboxSpecRules.ValidateTags(tags);
        var rows = await store.ListAsync(appId, before, includeFinished, cancellationToken).ConfigureAwait(false);
        return rows
            .Select(row => registry.TryGet(row.Id) is { } live ? row with { Tags = live.Tags } : row)
            .Where(row => tags.All(t => row.Tags.TryGetValue(t.Key, out var v) && v == t.Value))
            .Take(pageSize)
            .ToList();
    }

    private static EngineException NotFound(string sandboxId) => EngineException.NotFound($"Sandbox '{sandboxId}' not found");
}
