using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Transport;

namespace TypedSandbox.Runtime.Tests.Transport;

public sealed class RetryTests
{
    private static readonly RetryPolicy Fast = new(3, TimeSpan.FromMilliseconds(1), 2, TimeSpan.FromMilliseconds(4));

    private static Task<T> Run<T>(RetryPolicy policy, Func<RetryAttempt, CancellationToken, Task<T>> attempt, TimeSpan? attemptTimeout,
        CancellationToken cancellationToken, Func<CancellationToken, Task>? renew = null) =>
        policy.InvokeAsync(new UnaryCall("Test", attemptTimeout, RenewCredentials: renew), attempt, TimeProvider.System, NullLogger.Instance, cancellationToken);

    [Fact]
    public void Control_plane_delays_double_from_100ms_and_cap_at_1s()
    {
        var policy = RetryPolicy.ControlPlane;

        Assert.Equal(3, policy.MaxRetries);
        Assert.Equal(
            [100, 200, 400, 800, 1000, 1000],
            Enumerable.Range(1, 6).Select(n => (int)policy.DelayBefore(n).TotalMilliseconds));
        Assert.Equal(10, RetryPolicy.CommandRouter.MaxRetries);
        Assert.Equal(10, (int)RetryPolicy.CommandRouter.DelayBefore(1).TotalMilliseconds);
    }

    [Fact]
    public async Task Transient_failures_are_retried_with_attempt_numbers()
    {
        var attempts = new List<RetryAttempt>();

        var result = await Run(Fast, (attempt, _) =>
        {
            attempts.Add(attempt);
            return attempts.Count < 3
                ? Task.FromException<string>(new RpcException(new Status(StatusCode.Unavailable, "restarting")))
                : Task.FromResult("ok");
        }, null, CancellationToken.None);

        Assert.Equal("ok", result);
        Assert.Equal([0, 1, 2], attempts.Select(a => a.Retry));
        Assert.Null(attempts[0].LastDelay);
        Assert.NotNull(attempts[2].LastDelay);
    }

    [Fact]
    public async Task Retries_stop_after_the_policy_limit()
    {
        var count = 0;

        var error = await Assert.ThrowsAsync<SandboxException>(() => Run<string>(Fast, (_, _) =>
        {
            count++;
            throw new RpcException(new Status(StatusCode.Internal, "still broken"));
        }, null, CancellationToken.None));

        Assert.Equal(StatusCode.Internal, Assert.IsType<RpcException>(error.InnerException).StatusCode);
        Assert.Equal(1 + Fast.MaxRetries, count);
    }

    [Fact]
    public async Task Permanent_failures_are_not_retried()
    {
        var count = 0;

        var error = await Assert.ThrowsAsync<NotFoundException>(() => Run<string>(Fast, (_, _) =>
        {
            count++;
            throw new RpcException(new Status(StatusCode.NotFound, "gone"));
        }, null, CancellationToken.None));

        Assert.Equal("gone", error.Message);
        Assert.Equal(1, count);
    }

    [Fact]
    public async Task An_attempt_that_overruns_its_timeout_is_cancelled_and_retried()
    {
        var count = 0;

        var result = await Run(Fast, async (_, ct) =>
        {
            if (++count == 1)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            return count;
        }, TimeSpan.FromMilliseconds(20), CancellationToken.None);

        Assert.Equal(2, result);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_retried()
    {
        using var cts = new CancellationTokenSource();
        var count = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Run<int>(Fast, async (_, ct) =>
        {
            count++;
            await cts.CancelAsync();
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }, null, cts.Token));

        Assert.Equal(1, count);
    }

    [Fact]
    public async Task Server_throttle_waits_without_using_up_attempts()
    {
        var attempts = new List<RetryAttempt>();

        var result = await Run(RetryPolicy.None, (attempt, _) =>
        {
            attempts.Add(attempt);
            return attempts.Count <= 2
                ? Task.FromException<string>(Throttled(0.001f))
                : Task.FromResult("ok");
        }, null, CancellationToken.None);

        Assert.Equal("ok", result);
        Assert.Equal([0, 1, 2], attempts.Select(a => a.ThrottleRetry));
        Assert.All(attempts, a => Assert.Equal(0, a.Retry));
        Assert.Equal(TimeSpan.FromMilliseconds(100), attempts[1].LastThrottleDelay);
    }

    [Fact]
    public async Task Throttle_waits_are_bounded_by_the_configured_maximum()
    {
        var error = await Assert.ThrowsAsync<ResourceExhaustedException>(() => Run<string>(
            RetryPolicy.None with { MaxThrottleWait = TimeSpan.Zero }, (_, _) => throw Throttled(1), null, CancellationToken.None));

        Assert.Equal("slow down", error.Message);
    }

    [Fact]
    public async Task Unauthenticated_renews_credentials_once_then_fails_mapped()
    {
        var renewals = 0;
        var count = 0;

        await Assert.ThrowsAsync<SandboxAuthenticationException>(() => Run<string>(Fast, (_, _) =>
        {
            count++;
            throw new RpcException(new Status(StatusCode.Unauthenticated, "expired"));
        }, null, CancellationToken.None, _ =>
        {
            renewals++;
            return Task.CompletedTask;
        }));

        Assert.Equal(1, renewals);
        Assert.Equal(2, count);
    }

    [Fact]
    public async Task A_call_succeeds_after_its_credentials_are_renewed()
    {
        var renewed = false;

        var result = await Run(Fast, (_, _) => renewed
            ? Task.FromResult("ok")
            : Task.FromException<string>(new RpcException(new Status(StatusCode.Unauthenticated, "expired"))),
            null, CancellationToken.None, _ =>
            {
                renewed = true;
                return Task.CompletedTask;
            });

        Assert.Equal("ok", result);
    }

    [Theory]
    [InlineData(StatusCode.DeadlineExceeded, true)]
    [InlineData(StatusCode.Unavailable, true)]
    [InlineData(StatusCode.Cancelled, true)]
    [InlineData(StatusCode.Internal, true)]
    [InlineData(StatusCode.Unknown, true)]
    [InlineData(StatusCode.NotFound, false)]
    [InlineData(StatusCode.InvalidArgument, false)]
    [InlineData(StatusCode.Unauthenticated, false)]
    public void Retryable_codes_are_Modals(StatusCode code, bool retryable)
    {
        Assert.Equal(retryable, RetryPolicy.IsRetryable(code));
    }

    [Fact]
    public void Throttle_delay_is_read_from_status_details_and_floored_at_100ms()
    {
        Assert.Equal(TimeSpan.FromSeconds(2.5), ThrottleDelay.Read(Throttled(2.5f)));
        Assert.Equal(TimeSpan.FromMilliseconds(100), ThrottleDelay.Read(Throttled(0)));
        Assert.Null(ThrottleDelay.Read(new RpcException(new Status(StatusCode.ResourceExhausted, "no details"))));
        var unrelated = new RPCStatus { Code = 8 };
        unrelated.Details.Add(Any.Pack(new StringValue { Value = "x" }));
        Assert.Null(ThrottleDelay.Read(new RpcException(new Status(StatusCode.ResourceExhausted, ""),
            new Metadata { { "grpc-status-details-bin", unrelated.ToByteArray() } })));
    }

    private static RpcException Throttled(float seconds)
    {
        var status = new RPCStatus { Code = (int)StatusCode.ResourceExhausted, Message = "slow down" };
        status.Details.Add(Any.Pack(new RPCRetryPolicy { RetryAfterSecs = seconds }));
        return new RpcException(new Status(StatusCode.ResourceExhausted, "slow down"),
            new Metadata { { "grpc-status-details-bin", status.ToByteArray() } });
    }
}
