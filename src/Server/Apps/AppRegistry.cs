using TypedSandbox.Server.Engine;
using TypedSandbox.Server.State;

namespace TypedSandbox.Server.Apps;

/// <summary>An app: a named group of sandboxes within an environment.</summary>
internal sealed record AppRecord(string Id, string Environment, string Name, DateTimeOffset CreatedAt);

/// <summary>Apps by environment and name, persisted in the state database.</summary>
internal sealed class AppRegistry(StateDatabase database, TimeProvider clock)
{
    /// <summary>Finds the app, creating it when <paramref name="createIfMissing"/> is set.</summary>
    public async Task<AppRecord> GetOrCreateAsync(string environment, string name, bool createIfMissing, CancellationToken cancellationToken)
    {
        EngineRules.Require(EngineRules.CheckObjectName(name, "App name"));
        environment = EnvironmentStore.Canonical(environment);

        var existing = await FindAsync(environment, name, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return existing;
        }

        if (!createIfMissing)
        {
            throw EngineException.NotFound($"App '{name}' not found");
        }

        var record = new AppRecord(ObjectIds.New("ap"), environment, name, clock.GetUtcNow());
        await database.ExecuteAsync(
            "INSERT OR IGNORE INTO apps (id, environment, name, created_at) VALUES ($id, $env, $name, $at)",
            new Dictionary<string, object?> { ["$id"] = record.Id, ["$env"] = environment, ["$name"] = name, ["$at"] = record.CreatedAt.ToUnixTimeMilliseconds() / 1000.0 },
            cancellationToken).ConfigureAwait(false);
        // Another request may have won the race: the row in the database is the truth.
        return await FindAsync(environment, name, cancellationToken).ConfigureAwait(false) ?? record;
    }

    /// <summary>Finds an app by id.</summary>
    public async Task<AppRecord?> GetAsync(string appId, CancellationToken cancellationToken)
    {
        var rows = await database.QueryAsync(
            "SELECT id, environment, name, created_at FROM apps WHERE id = $id",
            new Dictionary<string, object?> { ["$id"] = appId }, Map, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>The apps of an environment, by name.</summary>
    public Task<IReadOnlyList<AppRecord>> ListAsync(string environment, CancellationToken cancellationToken) =>
        database.QueryAsync(
            "SELECT id, environment, name, created_at FROM apps WHERE environment = $env ORDER BY name",
            new Dictionary<string, object?> { ["$env"] = EnvironmentStore.Canonical(environment) }, Map, cancellationToken);

    /// <summary>Removes every app of an environment (its sandboxes have ended); returns how many.</summary>
    public Task<int> DeleteAllAsync(string environment, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "DELETE FROM apps WHERE environment = $env", new Dictionary<string, object?> { ["$env"] = EnvironmentStore.Canonical(environment) }, cancellationToken);

    private async Task<AppRecord?> FindAsync(string environment, string name, CancellationToken cancellationToken)
    {
        var rows = await database.QueryAsync(
            "SELECT id, environment, name, created_at FROM apps WHERE environment = $env AND name = $name",
            new Dictionary<string, object?> { ["$env"] = environment, ["$name"] = name }, Map, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    private static AppRecord Map(Microsoft.Data.Sqlite.SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds((long)(r.GetDouble(3) * 1000)));
}
