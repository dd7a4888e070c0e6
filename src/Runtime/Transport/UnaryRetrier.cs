using Google.Protobuf;
using Grpc.Core;

namespace TypedSandbox.Transport;

/// <summary>Which attempt of a logical call is running (sent to the server as <c>x-retry-attempt</c> and friends).</summary>
/// <param name="Retry">Retries so far (0 on the first attempt).</param>
/// <param name="ThrottleRetry">Throttle retries so far.</param>
/// <param name="LastDelay">The backoff slept before this attempt, if it is a retry.</param>
/// <param name="LastThrottleDelay">The throttle wait slept before this attempt, if any.</param>
internal readonly record struct RetryAttempt(int Retry, int ThrottleRetry, TimeSpan? LastDelay, TimeSpan? LastThrottleDelay);

/// <summary>Runs a unary call with Modal's retry rules: backoff on transient codes, server-directed throttle waits
/// that do not use up attempts, and an optional per-attempt timeout enforced by cancelling the call.</summary>
internal sealed class UnaryRetrier(RetryPolicy policy, TimeProvider time, TimeSpan? maxThrottleWait = null)
{
    private const string StatusDetailsTrailer = "grpc-status-details-bin";

    /// <summary>Runs <paramref name="attempt"/> until it succeeds, fails for good, or the caller cancels;
    /// <paramref name="onRetry"/> hears of each failure that will be retried and the wait before the retry.</summary>
    /// <exception cref="RpcException">The last failure, when it is not retryable or the retries ran out.</exception>
    public async Task<T> InvokeAsync<T>(
        Func<RetryAttempt, CancellationToken, Task<T>> attempt,
        TimeSpan? attemptTimeout,
        CancellationToken cancellationToken,
        Action<RpcException, TimeSpan>? onRetry = null)
    {
        var state = new RetryAttempt(0, 0, null, null);
        var throttleWaited = TimeSpan.Zero;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RpcException failure;
            using (var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                if (attemptTimeout is { } timeout)
                {
                    attemptCts.CancelAfter(timeout);
                }
                try
                {
                    return await attempt(state, attemptCts.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RpcException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    failure = e as RpcException ?? new RpcException(new Status(StatusCode.DeadlineExceeded,
                        $"The call did not finish within {attemptTimeout}."));
                    if (failure.StatusCode == StatusCode.Cancelled && attemptCts.IsCancellationRequested)
                    {
                        failure = new RpcException(new Status(StatusCode.DeadlineExceeded,
                            $"The call did not finish within {attemptTimeout}."));
                    }
                }
                catch (RpcException e) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("The call was cancelled.", e, cancellationToken);
                }
            }

            if (ReadThrottleDelay(failure) is { } throttle && (maxThrottleWait is null || throttleWaited + throttle <= maxThrottleWait))
            {
                throttleWaited += throttle;
                onRetry?.Invoke(failure, throttle);
                await Task.Delay(throttle, time, cancellationToken).ConfigureAwait(false);
                state = state with { ThrottleRetry = state.ThrottleRetry + 1, LastThrottleDelay = throttle };
                continue;
            }

            if (!RetryPolicy.IsRetryable(failure.StatusCode) || state.Retry >= policy.MaxRetries)
            {
                throw failure;
            }
            var delay = policy.DelayBefore(state.Retry + 1);
            onRetry?.Invoke(failure, delay);
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            state = state with { Retry = state.Retry + 1, LastDelay = delay };
        }
    }

    /// <summary>
    /// Reads a server throttle request: <c>modal.client.RPCStatus</c> in the status-details trailer carrying an
    /// <c>Any</c> of type <c>modal.client.RPCRetryPolicy</c>; returns max(retry_after_secs, 100 ms).
    /// </summary>
    internal static TimeSpan? ReadThrottleDelay(RpcException failure)
    {
        var details = failure.Trailers?.GetValueBytes(StatusDetailsTrailer);
        if (details is null || details.Length == 0)
        {
            return null;
        }
        try
        {
            var status = new CodedInputStream(details);
            uint tag;
            while ((tag = status.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) != 3 || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
                {
                    status.SkipLastField();
                    continue;
                }
                var any = new CodedInputStream(status.ReadBytes().ToByteArray());
                string typeUrl = "";
                ByteString value = ByteString.Empty;
                uint anyTag;
                while ((anyTag = any.ReadTag()) != 0)
                {
                    switch (WireFormat.GetTagFieldNumber(anyTag))
                    {
                        case 1: typeUrl = any.ReadString(); break;
                        case 2: value = any.ReadBytes(); break;
                        default: any.SkipLastField(); break;
                    }
                }
                if (!typeUrl.EndsWith("/modal.client.RPCRetryPolicy", StringComparison.Ordinal))
                {
                    continue;
                }
                float seconds = 0;
                var policy = new CodedInputStream(value.ToByteArray());
                uint policyTag;
                while ((policyTag = policy.ReadTag()) != 0)
                {
                    if (WireFormat.GetTagFieldNumber(policyTag) == 1 && WireFormat.GetTagWireType(policyTag) == WireFormat.WireType.Fixed32)
                    {
                        seconds = policy.ReadFloat();
                    }
                    else
                    {
                        policy.SkipLastField();
                    }
                }
                return TimeSpan.FromMilliseconds(Math.Max(seconds * 1000.0, 100.0));
            }
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
        return null;
    }
}
