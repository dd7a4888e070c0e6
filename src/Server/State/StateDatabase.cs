using Microsoft.Data.Sqlite;

namespace TypedSandbox.Server.State;

/// <summary>
/// The engine's embedded database (SQLite, one file under the state directory): environments, apps, sandboxes,
/// secrets, volumes and published image names,
/// so that an engine restart loses nothing. One connection, serialized by a gate: every statement is small.
/// </summary>
internal sealed class StateDatabase : IAsyncDisposable
{
    private const int SchemaVersion = 2;
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private StateDatabase(SqliteConnection connection) => _connection = connection;

    /// <summary>Opens (and creates or migrates) the database file at <paramref name="path"/>.</summary>
    public static async Task<StateDatabase> OpenAsync(string path, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var database = new StateDatabase(connection);
        await database.MigrateAsync(cancellationToken).ConfigureAwait(false);
        return database;
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await ExecuteAsync("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", null, cancellationToken).ConfigureAwait(false);
        var version = await ScalarAsync<long>("PRAGMA user_version;", null, cancellationToken).ConfigureAwait(false);
        if (version > SchemaVersion)
        {
            throw new InvalidOperationException(
                $"The state database was written by a newer engine (schema {version}, this engine knows {SchemaVersion}).");
        }

        if (version < 1)
        {
            await ExecuteAsync("""
                CREATE TABLE IF NOT EXISTS apps (
                  id TEXT PRIMARY KEY, environment TEXT NOT NULL, name TEXT NOT NULL, created_at REAL NOT NULL,
                  UNIQUE (environment, name));
                CREATE TABLE IF NOT EXISTS sandboxes (
                  id TEXT PRIMARY KEY, task_id TEXT NOT NULL UNIQUE, app_id TEXT NOT NULL, name TEXT,
                  created_at REAL NOT NULL, image_id TEXT NOT NULL, tags TEXT NOT NULL, definition TEXT NOT NULL,
                  finished_at REAL, result_status INTEGER, result_exit_code INTEGER, result_message TEXT);
                CREATE INDEX IF NOT EXISTS sandboxes_app_created ON sandboxes (app_id, created_at);
                CREATE TABLE IF NOT EXISTS secrets (
                  id TEXT PRIMARY KEY, environment TEXT NOT NULL, name TEXT, data TEXT NOT NULL, created_at REAL NOT NULL);
                CREATE UNIQUE INDEX IF NOT EXISTS secrets_name ON secrets (environment, name) WHERE name IS NOT NULL;
                CREATE TABLE IF NOT EXISTS volumes (
                  id TEXT PRIMARY KEY, environment TEXT NOT NULL, name TEXT, version INTEGER NOT NULL, created_at REAL NOT NULL);
                CREATE UNIQUE INDEX IF NOT EXISTS volumes_name ON volumes (environment, name) WHERE name IS NOT NULL;
                PRAGMA user_version = 1;
                """, null, cancellationToken).ConfigureAwait(false);
        }

        if (version < 2)
        {
            // Environments become records; objects made under the SDKs' empty name ("") belong to the default one.
            await ExecuteAsync("""
                BEGIN;
                CREATE TABLE IF NOT EXISTS environments (
                  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at REAL NOT NULL);
                INSERT OR IGNORE INTO environments (id, name, created_at) VALUES ('en-main', 'main', CAST(strftime('%s', 'now') AS REAL));
                CREATE TABLE IF NOT EXISTS image_tags (
                  environment TEXT NOT NULL, tag TEXT NOT NULL, image_id TEXT NOT NULL, created_at REAL NOT NULL,
                  PRIMARY KEY (environment, tag));
                CREATE INDEX IF NOT EXISTS image_tags_image ON image_tags (image_id);
                UPDATE OR IGNORE apps SET environment = 'main' WHERE environment = '';
                UPDATE OR IGNORE secrets SET environment = 'main' WHERE environment = '';
                UPDATE OR IGNORE volumes SET environment = 'main' WHERE environment = '';
                PRAGMA user_version = 2;
                COMMIT;
                """, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a statement that returns no rows; returns the number of rows changed.</summary>
    public async Task<int> ExecuteAsync(string sql, IReadOnlyDictionary<string, object?>? parameters, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = Prepare(sql, parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Runs a statement whose commit is written to the log but not flushed to the disk (SQLite's synchronous=NORMAL for
    /// this one commit, FULL again after it): durable at once against an engine crash, and against a host crash from
    /// the next flushed commit or checkpoint on. For records a host crash makes moot anyway (a new running sandbox,
    /// whose container dies with the host), so that writing them costs no disk flush on the request's path.
    /// </summary>
    public async Task<int> ExecuteUnflushedAsync(string sql, IReadOnlyDictionary<string, object?>? parameters, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using (var relax = Prepare("PRAGMA synchronous=NORMAL;", null))
            {
                await relax.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                using var command = Prepare(sql, parameters);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Every other commit stays flushed, even when this statement failed or was cancelled.
                using var restore = Prepare("PRAGMA synchronous=FULL;", null);
                await restore.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs a query returning one value (or the default when there is no row).</summary>
    public async Task<T?> ScalarAsync<T>(string sql, IReadOnlyDictionary<string, object?>? parameters, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = Prepare(sql, parameters);
            var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return value is null or DBNull ? default : (T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs a query and maps every row.</summary>
    public async Task<IReadOnlyList<T>> QueryAsync<T>(
        string sql, IReadOnlyDictionary<string, object?>? parameters, Func<SqliteDataReader, T> map, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = Prepare(sql, parameters);
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(map(reader));
            }

            return rows;
        }
        finally
        {
            _gate.Release();
        }
    }

    private SqliteCommand Prepare(string sql, IReadOnlyDictionary<string, object?>? parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        if (parameters is not null)
        {
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }
        }

        return command;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
            _gate.Dispose();
        }
    }
}
