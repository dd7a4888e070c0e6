using System.Text.RegularExpressions;
using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.State;

/// <summary>An environment: the namespace of apps, secrets, volumes and published image names.</summary>
internal sealed record EnvironmentRecord(string Id, string Name, DateTimeOffset CreatedAt)
{
    /// <summary>True for the default environment, which always exists and cannot be deleted.</summary>
    public bool IsDefault => Name == EnvironmentStore.DefaultName;
}

/// <summary>
/// Environments by name, persisted in the state database. The default one (<see cref="DefaultName"/>) exists from the
/// first start; Modal's SDKs name it with an empty string when no environment is configured.
/// </summary>
internal sealed partial class EnvironmentStore(StateDatabase database, TimeProvider clock)
{
    /// <summary>The name of the default environment.</summary>
    public const string DefaultName = "main";

    /// <summary>The stored name of an environment as a request names it: empty means the default one.</summary>
    public static string Canonical(string? name) => string.IsNullOrEmpty(name) ? DefaultName : name;

    /// <summary>Finds an environment; fails with NOT_FOUND when there is none of that name.</summary>
    public async Task<EnvironmentRecord> GetAsync(string? name, CancellationToken cancellationToken)
    {
        var canonical = Canonical(name);
        return await FindAsync(canonical, cancellationToken).ConfigureAwait(false)
            ?? throw EngineException.NotFound($"Environment '{canonical}' not found");
    }

    /// <summary>Finds an environment, creating it when <paramref name="createIfMissing"/> is set.</summary>
    public async Task<EnvironmentRecord> GetOrCreateAsync(string? name, bool createIfMissing, CancellationToken cancellationToken)
    {
        var canonical = Canonical(name);
        if (await FindAsync(canonical, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        if (!createIfMissing)
        {
            throw EngineException.NotFound($"Environment '{canonical}' not found");
        }

        CheckName(canonical, allowPeriods: true);
        await InsertAsync(canonical, cancellationToken).ConfigureAwait(false);
        return await GetAsync(canonical, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates an environment; fails with ALREADY_EXISTS when the name is taken.</summary>
    public async Task<EnvironmentRecord> CreateAsync(string name, CancellationToken cancellationToken)
    {
        CheckName(name, allowPeriods: false);
        if (await InsertAsync(name, cancellationToken).ConfigureAwait(false) == 0)
        {
            throw new EngineException(EngineErrorKind.AlreadyExists, $"Environment '{name}' already exists");
        }

        return await GetAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every environment, the default one first, then by name.</summary>
    public Task<IReadOnlyList<EnvironmentRecord>> ListAsync(CancellationToken cancellationToken) =>
        database.QueryAsync(
            "SELECT id, name, created_at FROM environments ORDER BY name <> $default, name",
            new Dictionary<string, object?> { ["$default"] = DefaultName }, Map, cancellationToken);

    /// <summary>Removes the record of an environment (its objects are removed by the caller first).</summary>
    public Task<int> RemoveAsync(EnvironmentRecord environment, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "DELETE FROM environments WHERE id = $id", new Dictionary<string, object?> { ["$id"] = environment.Id }, cancellationToken);

    private Task<int> InsertAsync(string name, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "INSERT OR IGNORE INTO environments (id, name, created_at) VALUES ($id, $name, $at)",
            new Dictionary<string, object?>
            {
                ["$id"] = ObjectIds.New("en"), ["$name"] = name, ["$at"] = clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
            },
            cancellationToken);

    private async Task<EnvironmentRecord?> FindAsync(string name, CancellationToken cancellationToken)
    {
        var rows = await database.QueryAsync(
            "SELECT id, name, created_at FROM environments WHERE name = $name",
            new Dictionary<string, object?> { ["$name"] = name }, Map, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>Modal's rule for environment names (periods are allowed in lookups, not in new names).</summary>
    private static void CheckName(string name, bool allowPeriods)
    {
        var pattern = allowPeriods ? NameWithPeriods() : Name();
        if (!pattern.IsMatch(name) || name.StartsWith("en-", StringComparison.OrdinalIgnoreCase))
        {
            var allowed = allowPeriods
                ? "alphanumeric characters, dashes, periods, and underscores"
                : "alphanumeric characters, dashes, and underscores";
            throw EngineException.Invalid(
                $"Invalid Environment name: '{name}'. Environment names must be 1-64 characters, start with an alphanumeric character, contain only {allowed}, and cannot start with 'en-'.");
        }
    }

    private static EnvironmentRecord Map(Microsoft.Data.Sqlite.SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds((long)(r.GetDouble(2) * 1000)));

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\z")]
    private static partial Regex Name();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\z")]
    private static partial Regex NameWithPeriods();
}
