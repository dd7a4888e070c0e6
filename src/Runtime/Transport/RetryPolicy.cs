using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using TypedSandbox.Errors;

namespace TypedSandbox.Transport;

/// <summary>Which attempt of a logical call is running (sent to the server as <c>x-retry-attempt</c> and friends).</summary>
/// <param name="Retry">Retries so far (0 on the first attempt).</param>
/// <param name="ThrottleRetry">Throttle retries so far.</param>
/// <param name="LastDelay">The backoff slept before this attempt, if it is a retry.</param>
/// <param name="LastThrottleDelay">The throttle wait slept before this attempt, if any.</param>
internal readonly record struct RetryAttempt(int Retry, int ThrottleRetry, TimeSpan? LastDelay, TimeSpan? LastThrottleDelay);

/// <summary>What a unary call tells the retry policy about itself.</summary>
/// <param name="Method">The RPC name, for logs and error messages.</param>
/// <param name="AttemptTimeout">Cancels a single attempt after this long (no deadline is sent to the server).</param>
/// <param name="NotFoundMessage">A clearer message for NOT_FOUND, when the caller knows what was looked up.</param>
/// <param name="RenewCredentials">Renews the call's credentials; the call is tried once more after UNAUTHENTICATED.</param>
internal readonly record struct UnaryCall(
    string Method,
    TimeSpan? AttemptTimeout = null,
    string? NotFoundMessage = null,
    Func<CancellationToken, Task>? RenewCredentials = null);

/// <summary>
/// How unary calls are retried, on the control plane and the command router alike: exponential backoff on transient
/// status codes, server-directed throttle waits that do not use up attempts, one renewal of credentials after
/// UNAUTHENTICATED, and the last failure mapped by <see cref="RpcErrorMapper"/>.
/// </summary>
/// <param name="MaxRetries">Retries after the first attempt.</param>
/// <param name="InitialDelay">The delay before the first retry.</param>
/// <param name="Multiplier">The factor applied to the delay after each retry.</param>
/// <param name="MaxDelay">The cap on a single delay.</param>
internal sealed record RetryPolicy(int MaxRetries, TimeSpan InitialDelay, double Multiplier, TimeSpan MaxDelay)
{
    /// <summary>Modal's control-plane policy: 3 retries, 100 ms doubling, at most 1 s.</summary>
    public static RetryPolicy ControlPlane { get; } = new(3, TimeSpan.FromMilliseconds(100), 2, TimeSpan.FromSeconds(1));

    /// <summary>Modal's command-router policy: 10 retries, 10 ms doubling, at most 1 s.</summary>
    public static RetryPolicy CommandRouter { get; } = new(10, TimeSpan.FromMilliseconds(10), 2, TimeSpan.FromSeconds(1));

    /// <summary>No retries.</summary>
    public static RetryPolicy None { get; } = new(0, TimeSpan.Zero, 1, TimeSpan.Zero);

    /// <summary>The most time all throttle waits of one call may add up to; null = no limit.</summary>
    public TimeSpan? MaxThrottleWait { get; init; }

    /// <summary>The delay before retry number <paramref name="retry"/> (1-based).</summary>
    public TimeSpan DelayBefore(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var ms = InitialDelay.TotalMilliseconds * Math.Pow(Multiplier, retry - 1);
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxDelay.TotalMilliseconds));
    }

    /// <summary>True for the codes Modal's SDKs retry on both planes.</summary>
    public static bool IsRetryable(StatusCode code) => code is StatusCode.DeadlineExceeded or StatusCode.Unavailable
        or StatusCode.Cancelled or StatusCode.Internal or StatusCode.Unknown;

    /// <summary>Runs <paramref name="attempt"/> until it succeeds, fails for good, or the caller cancels.</summary>
    /// <param name="call">The call's name, attempt timeout, NOT_FOUND message and credential renewal.</param>
    /// <param name="attempt">One attempt of the call.</param>
    /// <param name="time">The clock for backoff and attempt timeouts.</param>
    /// <param name="logger">Where retries are logged.</param>
    /// <param name="cancellationToken">Cancels the call and its retries.</param>
    /// <exception cref="SandboxException">The last failure, mapped, when it is not retryable or the retries ran out.</exception>
    /// <exception cref="OperationCanceledException">The caller cancelled.</exception>
    public async Task<T> InvokeAsync<T>(UnaryCall call, Func<RetryAttempt, CancellationToken, Task<T>> attempt, TimeProvider time,
        ILogger logger, CancellationToken cancellationToken)
    {
        var state = new RetryAttempt(0, 0, null, null);
        var throttleWaited = TimeSpan.Zero;
        var renewed = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var failure = await AttemptAsync(call, attempt, state, cancellationToken).ConfigureAwait(false);
            if (failure.Result is { } result)
            {
                return result.Value!;
            }
            var error = failure.Error!;
            if (error.StatusCode == StatusCode.Unauthenticated && call.RenewCredentials is { } renew && !renewed)
            {
                renewed = true;
                await renew(cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (ThrottleDelay.Read(error) is { } throttle && (MaxThrottleWait is null || throttleWaited + throttle <= MaxThrottleWait))
            {
                throttleWaited += throttle;
                Log.Retrying(logger, call.Method, error.StatusCode, throttle);
                await Task.Delay(throttle, time, cancellationToken).ConfigureAwait(false);
                state = state with { ThrottleRetry = state.ThrottleRetry + 1, LastThrottleDelay = throttle };
                continue;
            }
            if (!IsRetryable(error.StatusCode) || state.Retry >= MaxRetries)
            {
                throw RpcErrorMapper.Map(error, call.Method, call.NotFoundMessage);
            }
            var delay = DelayBefore(state.Retry + 1);
            Log.Retrying(logger, call.Method, error.StatusCode, delay);
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            state = state with { Retry = state.Retry + 1, LastDelay = delay };
        }
    }

    /// <summary>Runs one attempt; a failure comes back as the status it ended with (an overrun attempt as DEADLINE_EXCEEDED).</summary>
    private static async Task<(StrongBox<T>? Result, RpcException? Error)> AttemptAsync<T>(UnaryCall call,
        Func<RetryAttempt, CancellationToken, Task<T>> attempt, RetryAttempt state, CancellationToken cancellationToken)
    {
        using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (call.AttemptTimeout is { } timeout)
        {
            attemptCts.CancelAfter(timeout);
        }
        try
        {
            return (new StrongBox<T>(await attempt(state, attemptCts.Token).ConfigureAwait(false)), null);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var overran = e is OperationCanceledException || (e is RpcException { StatusCode: StatusCode.Cancelled } && attemptCts.IsCancellationRequested);
            return (null, overran
                ? new RpcException(new Status(StatusCode.DeadlineExceeded, $"The call did not finish within {call.AttemptTimeout}."))
                : (RpcException)e);
        }
        catch (RpcException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The call was cancelled.", e, cancellationToken);
        }
    }
}
