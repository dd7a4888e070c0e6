using Grpc.Core;
using Microsoft.Extensions.Logging;
using TypedSandbox.Errors;

namespace TypedSandbox.Transport;

/// <summary>A single-reader source of output bytes; an empty chunk means end of stream.</summary>
internal interface IByteSource : IAsyncDisposable
{
    /// <summary>Returns the next bytes, or an empty chunk at the end. A cancelled read loses nothing: the next
    /// read continues where the last delivered byte ended.</summary>
    ValueTask<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>What one message of a resumable stream contributes.</summary>
/// <param name="Data">The bytes it carries.</param>
/// <param name="StartingOffset">The absolute offset of <paramref name="Data"/>, when the protocol says.</param>
/// <param name="Cursor">The cursor to resume from after this message, for cursor-based streams.</param>
/// <param name="EndOfStream">True when this message ends the stream for good.</param>
internal readonly record struct StreamChunk(ReadOnlyMemory<byte> Data, long? StartingOffset = null, string? Cursor = null, bool EndOfStream = false);

/// <summary>Where a stream resumes: a byte offset, and for cursor-based streams the last cursor.</summary>
/// <param name="Offset">Bytes delivered so far.</param>
/// <param name="Cursor">The last cursor the server sent, if the stream uses cursors.</param>
internal readonly record struct StreamPosition(long Offset, string? Cursor);

/// <summary>
/// Reads a server stream that the protocol can resume: on a transient failure (or a read cancelled by the caller)
/// the call is dropped and re-opened from the bytes already delivered, so no byte is lost or repeated. A failure
/// that is not resumed reaches the reader mapped by <see cref="RpcErrorMapper"/>.
/// </summary>
internal sealed class ResumableByteSource : IByteSource
{
    private readonly Func<StreamPosition, CancellationToken, IAsyncEnumerable<StreamChunk>> _open;
    private readonly RetryPolicy _policy;
    private readonly Func<CancellationToken, Task>? _refreshCredentials;
    private readonly bool _endWhenStreamCompletes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _description;

    private StreamPosition _position;
    private IAsyncEnumerator<StreamChunk>? _attempt;
    private CancellationTokenSource? _attemptCts;
    private bool _firstOfAttempt;
    private bool _ended;
    private bool _disposed;

    /// <param name="open">Opens one attempt of the stream from a position.</param>
    /// <param name="initialCursor">The cursor of the first attempt (cursor-based streams).</param>
    /// <param name="policy">Consecutive transient failures allowed, and the backoff between them.</param>
    /// <param name="refreshCredentials">Called once after UNAUTHENTICATED before re-opening, when credentials can be renewed.</param>
    /// <param name="endWhenStreamCompletes">True when a normal end of the call means end of data; false when the
    /// server ends calls early and only <see cref="StreamChunk.EndOfStream"/> ends the data.</param>
    /// <param name="description">Names the stream in errors and logs.</param>
    /// <param name="time">The clock for backoff delays.</param>
    /// <param name="logger">Where resumptions are logged.</param>
    public ResumableByteSource(
        Func<StreamPosition, CancellationToken, IAsyncEnumerable<StreamChunk>> open,
        string? initialCursor,
        RetryPolicy policy,
        Func<CancellationToken, Task>? refreshCredentials,
        bool endWhenStreamCompletes,
        string description,
        TimeProvider time,
        ILogger logger)
    {
        _open = open;
        _position = new StreamPosition(0, initialCursor);
        _policy = policy;
        _refreshCredentials = refreshCredentials;
        _endWhenStreamCompletes = endWhenStreamCompletes;
        _description = description;
        _time = time;
        _logger = logger;
    }

    /// <summary>Bytes delivered so far.</summary>
    public long Offset => _position.Offset;

    /// <inheritdoc/>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var failures = 0; // consecutive failures since the last delivered bytes
        var refreshed = false;
        while (true)
        {
            if (_ended)
            {
                return ReadOnlyMemory<byte>.Empty;
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (_attempt is null)
            {
                _attemptCts = new CancellationTokenSource();
                _attempt = _open(_position, _attemptCts.Token).GetAsyncEnumerator(_attemptCts.Token);
                _firstOfAttempt = true;
            }

            bool hasMessage;
            try
            {
                // The caller's token cancels the whole attempt; it is re-opened from the delivered offset later.
                using (cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _attemptCts))
                {
                    hasMessage = await _attempt.MoveNextAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested)
            {
                await DropAttemptAsync().ConfigureAwait(false);
                throw new OperationCanceledException($"Reading {_description} was cancelled.", e, cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated && _refreshCredentials is not null && !refreshed)
            {
                refreshed = true;
                await DropAttemptAsync().ConfigureAwait(false);
                await _refreshCredentials(cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (RpcException e) when (RetryPolicy.IsRetryable(e.StatusCode) && failures < _policy.MaxRetries)
            {
                failures++;
                await DropAttemptAsync().ConfigureAwait(false);
                var delay = _policy.DelayBefore(failures);
                Log.StreamResuming(_logger, _description, e.StatusCode, _position.Offset, delay);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (RpcException e)
            {
                await DropAttemptAsync().ConfigureAwait(false);
                throw RpcErrorMapper.Map(e, _description);
            }

            if (!hasMessage)
            {
                await DropAttemptAsync().ConfigureAwait(false);
                if (_endWhenStreamCompletes)
                {
                    _ended = true;
                }
                continue;
            }

            var chunk = _attempt.Current;
            var data = chunk.Data;
            if (chunk.StartingOffset is { } start && _firstOfAttempt)
            {
                if (start < _position.Offset)
                {
                    // The server replayed bytes this reader already delivered.
                    var skip = (int)Math.Min(_position.Offset - start, data.Length);
                    data = data[skip..];
                }
                else if (start > _position.Offset)
                {
                    Log.StreamBytesDropped(_logger, _description, _position.Offset, start);
                    _position = _position with { Offset = start };
                }
            }
            _firstOfAttempt = false;
            _position = new StreamPosition(_position.Offset + data.Length, chunk.Cursor ?? _position.Cursor);
            if (chunk.EndOfStream)
            {
                _ended = true;
                await DropAttemptAsync().ConfigureAwait(false);
            }
            if (!data.IsEmpty)
            {
                return data;
            }
        }
    }

    private async ValueTask DropAttemptAsync()
    {
        var attempt = _attempt;
        var cts = _attemptCts;
        _attempt = null;
        _attemptCts = null;
        if (cts is not null)
        {
            await cts.CancelAsync().ConfigureAwait(false);
        }
        if (attempt is not null)
        {
            try
            {
                await attempt.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException)
            {
                // The attempt is being abandoned; its failure has been handled or does not matter.
            }
        }
        cts?.Dispose();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await DropAttemptAsync().ConfigureAwait(false);
    }
}
