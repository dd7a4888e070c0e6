using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using TypedSandbox.Errors;
using static TypedSandbox.Protocol.CommandRouter.TaskCommandRouter;

namespace TypedSandbox.Transport;

/// <summary>Where a sandbox's command router is and the JWT that opens it.</summary>
/// <param name="Url">The router URL as the server gave it (<c>https://…</c>).</param>
/// <param name="Jwt">The bearer token.</param>
internal sealed record RouterAccess(string Url, string Jwt);

/// <summary>
/// The connection to one sandbox's task command router: dialled on first use, authenticated with a JWT that is
/// renewed when it is about to expire or the router rejects it, unary calls retried with the router policy.
/// </summary>
internal sealed class CommandRouter : IAsyncDisposable
{
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(30);

    private readonly Func<CancellationToken, Task<RouterAccess>> _fetchAccess;
    private readonly bool _controlPlaneIsLoopback;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Func<HttpMessageHandler, HttpMessageHandler>? _wrapHandler;
    private readonly X509Certificate2Collection? _trustedAuthorities;
    private readonly ILogger _logger;
    private RouterAccess? _initialAccess;
    private GrpcChannel? _channel;
    private TaskCommandRouterClient? _client;
    private Uri? _address;
    private string? _jwt;
    private DateTimeOffset? _jwtExpiry;
    private bool _disposed;

    /// <param name="fetchAccess">Asks the control plane for the router URL and a fresh JWT.</param>
    /// <param name="initialAccess">Access handed out with the create response, used once before asking.</param>
    /// <param name="controlPlaneIsLoopback">Dial the router without TLS (Modal's local-server rule).</param>
    /// <param name="loggerFactory">Logs of the channel.</param>
    /// <param name="time">The clock for expiry checks and backoff.</param>
    /// <param name="wrapHandler">Wraps the HTTP handler (a seam for tests that inject network faults).</param>
    /// <param name="trustedAuthorities">For a TLS router: the only CAs its certificate may chain to; null = the system store.</param>
    public CommandRouter(
        Func<CancellationToken, Task<RouterAccess>> fetchAccess,
        RouterAccess? initialAccess,
        bool controlPlaneIsLoopback,
        ILoggerFactory loggerFactory,
        TimeProvider time,
        Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null,
        X509Certificate2Collection? trustedAuthorities = null)
    {
        _wrapHandler = wrapHandler;
        _trustedAuthorities = trustedAuthorities;
        _logger = loggerFactory.CreateLogger("TypedSandbox.CommandRouter");
        _fetchAccess = fetchAccess;
        _initialAccess = initialAccess;
        _controlPlaneIsLoopback = controlPlaneIsLoopback;
        _loggerFactory = loggerFactory;
        _time = time;
    }

    /// <summary>Runs a unary router RPC under <paramref name="policy"/> (the router policy by default): retried on
    /// transient codes, once more after renewing the JWT on UNAUTHENTICATED; failures become TypedSandbox exceptions.</summary>
    public Task<TResponse> CallAsync<TRequest, TResponse>(
        string method,
        Func<TaskCommandRouterClient, TRequest, CallOptions, AsyncUnaryCall<TResponse>> invoke,
        TRequest request,
        CancellationToken cancellationToken,
        TimeSpan? attemptTimeout = null,
        RetryPolicy? policy = null) =>
        (policy ?? RetryPolicy.CommandRouter).InvokeAsync(new UnaryCall(method, attemptTimeout, RenewCredentials: RenewAccessAsync), async (_, ct) =>
        {
            var (client, headers) = await ConnectAsync(ct).ConfigureAwait(false);
            using var call = invoke(client, request, new CallOptions(headers, cancellationToken: ct));
            return await call.ResponseAsync.ConfigureAwait(false);
        }, _time, _logger, cancellationToken);

    /// <summary>Opens a server stream on the router and yields its messages; failures surface as <see cref="RpcException"/>.</summary>
    public async IAsyncEnumerable<TResponse> StreamAsync<TRequest, TResponse>(
        Func<TaskCommandRouterClient, TRequest, CallOptions, AsyncServerStreamingCall<TResponse>> invoke,
        TRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (client, headers) = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        using var call = invoke(client, request, new CallOptions(headers, cancellationToken: cancellationToken));
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return call.ResponseStream.Current;
        }
    }

    /// <summary>Sends <paramref name="messages"/> on one client stream and returns the router's answer; failures
    /// become TypedSandbox exceptions. Not retried: a client stream cannot be replayed from where it broke.</summary>
    public async Task<TResponse> SendStreamAsync<TRequest, TResponse>(
        string method,
        Func<TaskCommandRouterClient, CallOptions, AsyncClientStreamingCall<TRequest, TResponse>> invoke,
        IEnumerable<TRequest> messages,
        CancellationToken cancellationToken)
    {
        try
        {
            var (client, headers) = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            using var call = invoke(client, new CallOptions(headers, cancellationToken: cancellationToken));
            foreach (var message in messages)
            {
                await call.RequestStream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            return await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw RpcErrorMapper.Map(e, method);
        }
    }

    /// <summary>Drops the current JWT and fetches a new one (after the router said UNAUTHENTICATED).</summary>
    public async Task RenewAccessAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _jwt = null;
            _initialAccess = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(TaskCommandRouterClient Client, Metadata Headers)> ConnectAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var client = _client;
        var jwt = _jwt;
        if (client is null || jwt is null || ExpiresSoon())
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_client is null || _jwt is null || ExpiresSoon())
                {
                    var access = _initialAccess ?? await _fetchAccess(cancellationToken).ConfigureAwait(false);
                    _initialAccess = null;
                    var address = GrpcChannels.CommandRouterAddress(access.Url, _controlPlaneIsLoopback);
                    if (_channel is null || _address != address)
                    {
                        _channel?.Dispose();
                        _channel = GrpcChannels.Create(address, _loggerFactory, _wrapHandler, _trustedAuthorities);
                        _client = new TaskCommandRouterClient(_channel);
                        _address = address;
                    }
                    _jwt = access.Jwt;
                    _jwtExpiry = Jwt.ReadExpiry(access.Jwt);
                }
                client = _client!;
                jwt = _jwt;
            }
            finally
            {
                _gate.Release();
            }
        }
        return (client, new Metadata { { "authorization", "Bearer " + jwt } });
    }

    private bool ExpiresSoon() => _jwtExpiry is { } expiry && expiry - _time.GetUtcNow() < RefreshMargin;

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            _channel?.Dispose();
            _channel = null;
            _client = null;
        }
        finally
        {
            _gate.Release();
        }
    }
}
