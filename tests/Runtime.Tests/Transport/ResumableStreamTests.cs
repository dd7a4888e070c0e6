using System.Runtime.CompilerServices;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Transport;

namespace TypedSandbox.Runtime.Tests.Transport;

/// <summary>Resumption logic against a scripted server: a byte journal that fails streams at chosen points.</summary>
public sealed class ResumableStreamTests
{
    private static readonly RetryPolicy Fast = new(10, TimeSpan.FromMilliseconds(1), 2, TimeSpan.FromMilliseconds(2));

    /// <summary>Serves a journal from an offset in fixed-size messages; fails an attempt after a number of messages.</summary>
    private sealed class ScriptedJournal(byte[] journal, int chunk)
    {
        public Queue<(int AfterMessages, StatusCode Code)> Failures { get; } = new();
        public List<long> OpenedAt { get; } = [];
        public bool SendStartingOffset { get; init; }
        public long ReplayBytes { get; init; }
        public TaskCompletionSource? HangAfterFirstMessage { get; set; }

        public async IAsyncEnumerable<StreamChunk> OpenAsync(StreamPosition position, [EnumeratorCancellation] CancellationToken ct)
        {
            OpenedAt.Add(position.Offset);
            var failure = Failures.Count > 0 ? Failures.Dequeue() : (AfterMessages: int.MaxValue, Code: StatusCode.OK);
            var start = Math.Max(0, position.Offset - ReplayBytes);
            var sent = 0;
            for (var offset = start; offset < journal.Length; offset += chunk)
            {
                if (sent == failure.AfterMessages)
                {
                    throw new RpcException(new Status(failure.Code, "scripted failure"));
                }
                await Task.Yield();
                ct.ThrowIfCancellationRequested();
                var length = (int)Math.Min(chunk, journal.Length - offset);
                yield return new StreamChunk(journal.AsMemory((int)offset, length), SendStartingOffset ? offset : null);
                sent++;
                if (HangAfterFirstMessage is { } hang)
                {
                    HangAfterFirstMessage = null;
                    await hang.Task.WaitAsync(ct);
                }
            }
        }
    }

    private static byte[] Journal(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7 % 251))];

    private static ResumableByteSource Source(ScriptedJournal journal, Func<CancellationToken, Task>? refresh = null) =>
        new(journal.OpenAsync, null, Fast, refresh, endWhenStreamCompletes: true, "test stream", TimeProvider.System, NullLogger.Instance);

    private static async Task<byte[]> ReadAll(ResumableByteSource source)
    {
        using var all = new MemoryStream();
        while (await source.ReadAsync(CancellationToken.None) is { IsEmpty: false } data)
        {
            all.Write(data.Span);
        }
        return all.ToArray();
    }

    [Fact]
    public async Task Transient_failures_resume_at_the_delivered_offset_without_loss_or_duplicates()
    {
        var data = Journal(10_000);
        var journal = new ScriptedJournal(data, 333);
        journal.Failures.Enqueue((3, StatusCode.Unavailable));
        journal.Failures.Enqueue((0, StatusCode.Internal));
        journal.Failures.Enqueue((5, StatusCode.Unknown));
        await using var source = Source(journal);

        var read = await ReadAll(source);

        Assert.Equal(data, read);
        Assert.Equal([0L, 999L, 999L, 2664L], journal.OpenedAt);
    }

    [Fact]
    public async Task Replayed_bytes_are_skipped_using_the_starting_offset()
    {
        var data = Journal(5_000);
        var journal = new ScriptedJournal(data, 400) { SendStartingOffset = true, ReplayBytes = 150 };
        journal.Failures.Enqueue((2, StatusCode.Unavailable));
        await using var source = Source(journal);

        Assert.Equal(data, await ReadAll(source));
    }

    [Fact]
    public async Task Permanent_failures_surface()
    {
        var journal = new ScriptedJournal(Journal(100), 10);
        journal.Failures.Enqueue((1, StatusCode.NotFound));
        await using var source = Source(journal);

        await source.ReadAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<NotFoundException>(async () => await source.ReadAsync(CancellationToken.None));

        Assert.Equal(StatusCode.NotFound, Assert.IsType<RpcException>(error.InnerException).StatusCode);
    }

    [Fact]
    public async Task Too_many_consecutive_failures_surface()
    {
        var journal = new ScriptedJournal(Journal(100), 10);
        for (var i = 0; i <= Fast.MaxRetries; i++)
        {
            journal.Failures.Enqueue((0, StatusCode.Unavailable));
        }
        await using var source = Source(journal);

        await Assert.ThrowsAsync<SandboxUnavailableException>(async () => await source.ReadAsync(CancellationToken.None));
        Assert.Equal(Fast.MaxRetries + 1, journal.OpenedAt.Count);
    }

    [Fact]
    public async Task Unauthenticated_renews_credentials_once_and_resumes()
    {
        var data = Journal(1_000);
        var journal = new ScriptedJournal(data, 100);
        journal.Failures.Enqueue((4, StatusCode.Unauthenticated));
        var renewals = 0;
        await using var source = Source(journal, _ =>
        {
            renewals++;
            return Task.CompletedTask;
        });

        Assert.Equal(data, await ReadAll(source));
        Assert.Equal(1, renewals);
    }

    [Fact]
    public async Task A_cancelled_read_loses_nothing_and_the_next_read_resumes()
    {
        var data = Journal(2_000);
        var hang = new TaskCompletionSource();
        var journal = new ScriptedJournal(data, 500) { HangAfterFirstMessage = hang };
        await using var source = Source(journal);

        var first = await source.ReadAsync(CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var pending = source.ReadAsync(cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);

        using var rest = new MemoryStream();
        rest.Write(first.Span);
        while (await source.ReadAsync(CancellationToken.None) is { IsEmpty: false } chunk)
        {
            rest.Write(chunk.Span);
        }
        Assert.Equal(data, rest.ToArray());
        Assert.Equal([0L, 500L], journal.OpenedAt);
    }

    [Fact]
    public async Task Cursor_streams_reopen_from_the_last_cursor_until_end_of_stream()
    {
        var opened = new List<string?>();
        async IAsyncEnumerable<StreamChunk> Open(StreamPosition position, [EnumeratorCancellation] CancellationToken ct)
        {
            opened.Add(position.Cursor);
            await Task.Yield();
            switch (position.Cursor)
            {
                case "0-0":
                    yield return new StreamChunk("a"u8.ToArray(), Cursor: "1-0");
                    yield return new StreamChunk(ReadOnlyMemory<byte>.Empty, Cursor: "2-0");
                    break;
                case "2-0":
                    yield return new StreamChunk("b"u8.ToArray(), Cursor: "3-0", EndOfStream: true);
                    break;
                default:
                    throw new InvalidOperationException("unexpected cursor " + position.Cursor);
            }
        }
        await using var source = new ResumableByteSource(Open, "0-0", Fast, null, endWhenStreamCompletes: false, "logs",
            TimeProvider.System, NullLogger.Instance);

        Assert.Equal("ab", Encoding.UTF8.GetString(await ReadAll(source)));
        Assert.Equal(["0-0", "2-0"], opened);
    }

    [Fact]
    public async Task Output_stream_decodes_text_split_inside_characters_and_yields_lines()
    {
        var text = "héllo wörld\nsecond ✓ line\r\nthird";
        var bytes = Encoding.UTF8.GetBytes(text);
        var journal = new ScriptedJournal(bytes, 3);
        await using var stream = new SandboxOutputStream(Source(journal));

        var lines = new List<string>();
        await foreach (var line in stream.ReadLinesAsync())
        {
            lines.Add(line);
        }

        Assert.Equal(["héllo wörld", "second ✓ line", "third"], lines);
    }

    [Fact]
    public async Task Output_stream_reads_to_end_and_as_raw_bytes()
    {
        var bytes = Journal(70_000);
        await using var raw = new SandboxOutputStream(Source(new ScriptedJournal(bytes, 4096)));
        await using var text = new SandboxOutputStream(Source(new ScriptedJournal("done\n"u8.ToArray(), 2)));
        await using var ignored = new SandboxOutputStream(null);

        Assert.Equal(bytes, await raw.ReadAllBytesAsync());
        Assert.Equal("done\n", await text.ReadToEndAsync());
        Assert.Equal("", await ignored.ReadToEndAsync());
        Assert.Equal(0, await raw.ReadAsync(new byte[10]));
    }

    [Fact]
    public async Task Output_stream_failures_arrive_mapped()
    {
        var journal = new ScriptedJournal(Journal(10), 5);
        journal.Failures.Enqueue((0, StatusCode.NotFound));
        await using var stream = new SandboxOutputStream(Source(journal));

        var error = await Assert.ThrowsAsync<NotFoundException>(() => stream.ReadToEndAsync());
        Assert.Equal(StatusCode.NotFound, Assert.IsType<RpcException>(error.InnerException).StatusCode);
    }

    [Fact]
    public async Task A_cancelled_line_read_keeps_the_partial_line()
    {
        var hang = new TaskCompletionSource();
        var journal = new ScriptedJournal("a\npartial\nnext\n"u8.ToArray(), 5) { HangAfterFirstMessage = hang };
        await using var stream = new SandboxOutputStream(Source(journal));
        using var cts = new CancellationTokenSource();
        Assert.Equal("a", await stream.ReadLineAsync());

        // "par" is buffered now; the rest of the line is stuck behind the hang.
        var pending = stream.ReadLineAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);

        Assert.Equal("partial", await stream.ReadLineAsync());
        Assert.Equal("next", await stream.ReadLineAsync());
        Assert.Null(await stream.ReadLineAsync());
    }
}
