using Microsoft.Data.Sqlite;
using TypedSandbox.Server.Apps;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.State;

namespace TypedSandbox.Engine.Tests;

/// <summary>
/// The state database's move to environments as records (schema 2): a database written by an engine of schema 1
/// keeps its objects, now in the default environment; environment records obey Modal's rules. No root, no runtime.
/// </summary>
public sealed class StateMigrationTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "tsb-state-" + Guid.NewGuid().ToString("N") + ".db");

    [Fact]
    public async Task Objects_of_a_schema_1_database_land_in_the_default_environment()
    {
        await WriteSchema1DatabaseAsync();

        await using var database = await StateDatabase.OpenAsync(_path, CancellationToken.None);

        var environments = new EnvironmentStore(database, TimeProvider.System);
        var main = await environments.GetAsync("", CancellationToken.None);
        Assert.Equal(("en-main", "main", true), (main.Id, main.Name, main.IsDefault));
        var app = await new AppRegistry(database, TimeProvider.System).GetOrCreateAsync("main", "old-app", createIfMissing: false, CancellationToken.None);
        Assert.Equal("ap-old", app.Id);
        var secrets = new SecretStore(database, TimeProvider.System);
        Assert.Equal("st-old", await secrets.GetNamedAsync("main", "old-secret", [], CancellationToken.None));
        Assert.Equal("st-old", await secrets.GetNamedAsync("", "old-secret", [], CancellationToken.None));
        Assert.Equal(2L, await database.ScalarAsync<long>("PRAGMA user_version;", null, CancellationToken.None));
    }

    [Fact]
    public async Task Environments_follow_Modals_names_and_refuse_duplicates_and_unknown_names()
    {
        await using var database = await StateDatabase.OpenAsync(_path, CancellationToken.None);
        var environments = new EnvironmentStore(database, TimeProvider.System);

        var created = await environments.CreateAsync("dev_1", CancellationToken.None);

        Assert.StartsWith("en-", created.Id, StringComparison.Ordinal);
        Assert.Equal(EngineErrorKind.AlreadyExists, (await Assert.ThrowsAsync<EngineException>(() => environments.CreateAsync("dev_1", CancellationToken.None))).Kind);
        foreach (var bad in new[] { "en-dev", "-dev", "dev.1", "a b", new string('a', 65) })
        {
            var error = await Assert.ThrowsAsync<EngineException>(() => environments.CreateAsync(bad, CancellationToken.None));
            Assert.Equal(EngineErrorKind.InvalidArgument, error.Kind);
            Assert.StartsWith($"Invalid Environment name: '{bad}'", error.Message, StringComparison.Ordinal);
        }

        var missing = await Assert.ThrowsAsync<EngineException>(() => environments.GetAsync("nope", CancellationToken.None));
        Assert.Equal((EngineErrorKind.NotFound, "Environment 'nope' not found"), (missing.Kind, missing.Message));
        Assert.Equal(new[] { "main", "dev_1" }, (await environments.ListAsync(CancellationToken.None)).Select(e => e.Name));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    /// <summary>The tables and rows an engine of schema 1 wrote (objects under the SDKs' empty environment name).</summary>
    private async Task WriteSchema1DatabaseAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={_path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE apps (id TEXT PRIMARY KEY, environment TEXT NOT NULL, name TEXT NOT NULL, created_at REAL NOT NULL, UNIQUE (environment, name));
            CREATE TABLE sandboxes (
              id TEXT PRIMARY KEY, task_id TEXT NOT NULL UNIQUE, app_id TEXT NOT NULL, name TEXT,
              created_at REAL NOT NULL, image_id TEXT NOT NULL, tags TEXT NOT NULL, definition TEXT NOT NULL,
              finished_at REAL, result_status INTEGER, result_exit_code INTEGER, result_message TEXT);
            CREATE TABLE secrets (id TEXT PRIMARY KEY, environment TEXT NOT NULL, name TEXT, data TEXT NOT NULL, created_at REAL NOT NULL);
            CREATE UNIQUE INDEX secrets_name ON secrets (environment, name) WHERE name IS NOT NULL;
            CREATE TABLE volumes (id TEXT PRIMARY KEY, environment TEXT NOT NULL, name TEXT, version INTEGER NOT NULL, created_at REAL NOT NULL);
            INSERT INTO apps VALUES ('ap-old', '', 'old-app', 1);
            INSERT INTO secrets VALUES ('st-old', '', 'old-secret', '{"K":"v"}', 1);
            PRAGMA user_version = 1;
            """;
        await command.ExecuteNonQueryAsync();
    }
}
