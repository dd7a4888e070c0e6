using System.Text.Json;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.State;

namespace TypedSandbox.Server.Secrets;

/// <summary>
/// Secrets: named ones (created by the operator through the engine's <c>secret</c> command) and ephemeral ones
/// (created by an SDK from a dictionary). Values live only in the state database and are never logged.
/// </summary>
internal sealed class SecretStore(StateDatabase database, TimeProvider clock)
{
    /// <summary>The environment Modal's SDKs name when none is configured (they send an empty name, the default one).</summary>
    public const string DefaultEnvironment = "";

    private static Dictionary<string, object?> Named(string environment, string name) =>
        new() { ["$env"] = EnvironmentStore.Canonical(environment), ["$name"] = name };

    /// <summary>Looks up a named secret; fails with NOT_FOUND, or FAILED_PRECONDITION when a required key is missing.</summary>
    public async Task<string> GetNamedAsync(string environment, string name, IReadOnlyCollection<string> requiredKeys, CancellationToken cancellationToken)
    {
        var rows = await database.QueryAsync(
            "SELECT id, data FROM secrets WHERE environment = $env AND name = $name",
            Named(environment, name),
            r => (Id: r.GetString(0), Data: r.GetString(1)), cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            throw EngineException.NotFound($"Secret '{name}' not found");
        }

        var values = Deserialize(rows[0].Data);
        var missing = requiredKeys.Where(k => !values.ContainsKey(k)).ToList();
        if (missing.Count > 0)
        {
            throw EngineException.Precondition($"Secret is missing key(s): {string.Join(", ", missing)}");
        }

        return rows[0].Id;
    }

    /// <summary>Creates or replaces a named secret (the operator's command); returns its id.</summary>
    public async Task<string> PutNamedAsync(string environment, string name, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken)
    {
        EngineRules.Require(EngineRules.CheckObjectName(name, "Secret name"));
        CheckKeys(values);
        var id = ObjectIds.New("st");
        await database.ExecuteAsync(
            """
            INSERT INTO secrets (id, environment, name, data, created_at) VALUES ($id, $env, $name, $data, $at)
            ON CONFLICT (environment, name) WHERE name IS NOT NULL DO UPDATE SET data = excluded.data
            """,
            new Dictionary<string, object?>
            {
                ["$id"] = id, ["$env"] = EnvironmentStore.Canonical(environment), ["$name"] = name,
                ["$data"] = JsonSerializer.Serialize(values), ["$at"] = clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
            },
            cancellationToken).ConfigureAwait(false);
        return await GetNamedAsync(environment, name, [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes a named secret; returns false when there was none.</summary>
    public async Task<bool> DeleteNamedAsync(string environment, string name, CancellationToken cancellationToken) =>
        await database.ExecuteAsync(
            "DELETE FROM secrets WHERE environment = $env AND name = $name",
            Named(environment, name), cancellationToken).ConfigureAwait(false) > 0;

    /// <summary>The named secrets of an environment with their keys (never their values), by name.</summary>
    public async Task<IReadOnlyList<(string Name, IReadOnlyList<string> Keys)>> ListNamedAsync(string environment, CancellationToken cancellationToken)
    {
        var rows = await database.QueryAsync(
            "SELECT name, data FROM secrets WHERE environment = $env AND name IS NOT NULL ORDER BY name",
            new Dictionary<string, object?> { ["$env"] = EnvironmentStore.Canonical(environment) },
            r => (r.GetString(0), (IReadOnlyList<string>)[.. Deserialize(r.GetString(1)).Keys.Order(StringComparer.Ordinal)]),
            cancellationToken).ConfigureAwait(false);
        return rows;
    }

    /// <summary>Stores an anonymous secret made from a dictionary (an SDK's <c>fromObject</c>); returns its id.</summary>
    public async Task<string> CreateEphemeralAsync(string environment, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken)
    {
        CheckKeys(values);
        var id = ObjectIds.New("st");
        await database.ExecuteAsync(
            "INSERT INTO secrets (id, environment, name, data, created_at) VALUES ($id, $env, NULL, $data, $at)",
            new Dictionary<string, object?>
            {
                ["$id"] = id, ["$env"] = EnvironmentStore.Canonical(environment), ["$data"] = JsonSerializer.Serialize(values),
                ["$at"] = clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
            },
            cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>Removes a secret by id (Modal's <c>SecretDelete</c>); fails with NOT_FOUND when there is none.</summary>
    public async Task DeleteAsync(string secretId, CancellationToken cancellationToken)
    {
        var removed = await database.ExecuteAsync(
            "DELETE FROM secrets WHERE id = $id", new Dictionary<string, object?> { ["$id"] = secretId }, cancellationToken).ConfigureAwait(false);
        if (removed == 0)
        {
            throw EngineException.NotFound($"Secret with id '{secretId}' not found");
        }
    }

    /// <summary>Removes every secret of an environment, named and anonymous; returns how many.</summary>
    public Task<int> DeleteAllAsync(string environment, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "DELETE FROM secrets WHERE environment = $env",
            new Dictionary<string, object?> { ["$env"] = EnvironmentStore.Canonical(environment) }, cancellationToken);

    /// <summary>The key/value pairs of a secret, by id.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ResolveAsync(string secretId, CancellationToken cancellationToken)
    {
        var data = await database.ScalarAsync<string>(
            "SELECT data FROM secrets WHERE id = $id", new Dictionary<string, object?> { ["$id"] = secretId }, cancellationToken).ConfigureAwait(false);
        return data is null ? throw EngineException.NotFound($"Secret with id '{secretId}' not found") : Deserialize(data);
    }

    private static Dictionary<string, string> Deserialize(string data) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(data) ?? [];

    private static void CheckKeys(IReadOnlyDictionary<string, string> values)
    {
        foreach (var key in values.Keys)
        {
            EngineRules.Require(EngineRules.CheckEnvironmentKey(key));
        }
    }
}
