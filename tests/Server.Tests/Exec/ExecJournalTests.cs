using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Tests.Exec;

public sealed class ExecJournalTests : IDisposable
{
    private readonly string _spill = Directory.CreateTempSubdirectory("tsb-journal-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    [Fact]
    public async Task Reads_by_offset_return_exactly_the_appended_bytes()
    {
        await using var journal = new ExecJournal(_spill);
        journal.Append("hello "u8);
        journal.Append("world"u8);
        journal.Complete();

        Assert.Equal("hello world"u8.ToArray(), await journal.ReadToEndAsync(0, CancellationToken.None));
        Assert.Equal("world"u8.ToArray(), (await journal.ReadAsync(6, 100, CancellationToken.None)).ToArray());
        Assert.Equal("lo"u8.ToArray(), (await journal.ReadAsync(3, 2, CancellationToken.None)).ToArray());
        Assert.True((await journal.ReadAsync(11, 100, CancellationToken.None)).IsEmpty);
        Assert.Equal(11, journal.Length);
    }

    [Fact]
    public async Task A_waiting_reader_wakes_on_append_and_gets_eof_on_complete()
    {
        await using var journal = new ExecJournal(_spill);
        var pending = journal.ReadAsync(0, 100, CancellationToken.None).AsTask();
        Assert.False(pending.IsCompleted);

        journal.Append("x"u8);
        Assert.Equal("x"u8.ToArray(), (await pending).ToArray());

        var atEnd = journal.ReadAsync(1, 100, CancellationToken.None).AsTask();
        journal.Complete();
        Assert.True((await atEnd).IsEmpty);
    }

    [Fact]
    public async Task Past_the_threshold_the_journal_spills_to_a_file_and_loses_nothing()
    {
        var data = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(data);
        await using (var journal = new ExecJournal(_spill, memoryThreshold: 64 * 1024))
        {
            for (var offset = 0; offset < data.Length; offset += 10_000)
            {
                journal.Append(data.AsSpan(offset, Math.Min(10_000, data.Length - offset)));
            }

            journal.Complete();

            Assert.True(journal.StoredBytes == data.Length, "nothing was read, so everything is kept");
            Assert.Equal(data, await journal.ReadToEndAsync(0, CancellationToken.None));
            Assert.Equal(data.AsSpan(1_234_567, 1000).ToArray(), (await journal.ReadAsync(1_234_567, 1000, CancellationToken.None)).ToArray());
        }
        Assert.Empty(Directory.GetFiles(_spill));
    }

    [Fact]
    public async Task Appends_after_complete_are_ignored()
    {
        await using var journal = new ExecJournal(_spill);
        journal.Append("a"u8);
        journal.Complete();
        journal.Append("b"u8);

        Assert.Equal("a"u8.ToArray(), await journal.ReadToEndAsync(0, CancellationToken.None));
    }

    [Fact]
    public async Task A_cancelled_read_throws_and_later_reads_still_work()
    {
        await using var journal = new ExecJournal(_spill);
        using var cts = new CancellationTokenSource();
        var pending = journal.ReadAsync(0, 10, cts.Token).AsTask();

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);

        journal.Append("ok"u8);
        Assert.Equal("ok"u8.ToArray(), (await journal.ReadAsync(0, 10, CancellationToken.None)).ToArray());
    }

    [Fact]
    public async Task A_concurrent_writer_and_reader_see_the_same_stream()
    {
        await using var journal = new ExecJournal(_spill, memoryThreshold: 4096);
        var expected = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
        var reader = journal.ReadToEndAsync(0, CancellationToken.None);
        var writer = Task.Run(() =>
        {
            for (var offset = 0; offset < expected.Length; offset += 333)
            {
                journal.Append(expected.AsSpan(offset, Math.Min(333, expected.Length - offset)));
            }

            journal.Complete();
        });

        await writer;
        Assert.Equal(expected, await reader);
    }

    [Fact]
    public async Task A_complete_spilled_journal_keeps_only_the_budget_its_file_holds()
    {
        var bounds = OutputBounds.Default with { MemoryBytes = 4096, DiskBytes = 1 << 20 };
        var budget = new SpillBudget(4 << 20);
        var journal = new ExecJournal(_spill, bounds, budget, grant: null);
        journal.Append(new byte[10_000]);
        Assert.Equal(bounds.DiskBytes, journal.FootprintBytes);
        Assert.Equal((4 << 20) - bounds.DiskBytes, budget.Available);

        journal.Complete();

        Assert.Equal(10_000, journal.FootprintBytes);
        Assert.Equal((4 << 20) - 10_000, budget.Available);
        Assert.Equal(10_000, (await journal.ReadToEndAsync(0, CancellationToken.None)).Length);
        await journal.DisposeAsync();
        Assert.Equal(4 << 20, budget.Available);
    }

    [Fact]
    public async Task A_freed_journal_answers_readers_with_not_found()
    {
        var journal = new ExecJournal(_spill);
        journal.Append("gone"u8);
        await journal.DisposeAsync();

        var error = await Assert.ThrowsAsync<EngineException>(() => journal.ReadAsync(0, 10, CancellationToken.None).AsTask());

        Assert.Equal(EngineErrorKind.NotFound, error.Kind);
        Assert.Contains("freed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reader_lease_marks_the_journal_as_being_read_until_disposed()
    {
        await using var journal = new ExecJournal(_spill);
        var lease = journal.OpenReader();
        Assert.True(journal.IsBeingRead);
        lease.Dispose();
        lease.Dispose();
        Assert.False(journal.IsBeingRead);
    }
}
