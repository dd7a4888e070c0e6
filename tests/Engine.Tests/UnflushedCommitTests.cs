using Microsoft.Data.Sqlite;
using TypedSandbox.Server.State;

namespace TypedSandbox.Engine.Tests;

/// <summary>
/// The state database's one unflushed kind of commit (a new sandbox's record): it is written and read back, and every
/// other commit stays flushed (synchronous=FULL) after it, also after one that failed. No root, no runtime.
/// </summary>
public sealed class UnflushedCommitTests : IDisposable
{
    private const long Full = 2;
    private readonly string _path = Path.Combine(Path.GetTempPath(), "tsb-state-" + Guid.NewGuid().ToString("N") + ".db");

    [Fact]
    public async Task An_unflushed_write_is_stored_and_the_connection_flushes_every_commit_after_it_even_after_a_failed_one()
    {
        await using var database = await StateDatabase.OpenAsync(_path, CancellationToken.None);
        var row = new Dictionary<string, object?> { ["$id"] = "ap-unflushed", ["$name"] = "unflushed" };
        const string Insert = "INSERT INTO apps (id, environment, name, created_at) VALUES ($id, 'main', $name, 0)";

        Assert.Equal(1, await database.ExecuteUnflushedAsync(Insert, row, CancellationToken.None));
        Assert.Equal(Full, await database.ScalarAsync<long>("PRAGMA synchronous;", null, CancellationToken.None));
        await Assert.ThrowsAsync<SqliteException>(() => database.ExecuteUnflushedAsync(Insert, row, CancellationToken.None));

        Assert.Equal(Full, await database.ScalarAsync<long>("PRAGMA synchronous;", null, CancellationToken.None));
        Assert.Equal("unflushed", await database.ScalarAsync<string>("SELECT name FROM apps WHERE id = 'ap-unflushed'", null, CancellationToken.None));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }
}
