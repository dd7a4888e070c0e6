using Grpc.Core;
using TypedSandbox.Errors;

namespace TypedSandbox.Transport;

/// <summary>How a unary call is retried: exponential backoff on transient status codes.</summary>
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

    /// <summary>The delay before retry number <paramref name="retry"/> (1-based).</summary>
    public TimeSpan DelayBefore(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var ms = InitialDelay.TotalMilliseconds * Math.Pow(Multiplier, retry - 1);
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxDelay.TotalMilliseconds));
    }

    /// <summary>True when a failure with this code is worth another attempt.</summary>
    public static bool IsRetryable(StatusCode code) => RpcErrorMapper.IsRetryable(code);
}
