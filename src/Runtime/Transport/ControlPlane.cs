using System.Globalization;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using TypedSandbox.Configuration;
using TypedSandbox.Protocol.Client;
using static TypedSandbox.Protocol.Client.ModalClient;

namespace TypedSandbox.Transport;

/// <summary>
/// The control-plane connection: one channel, Modal's headers on every call, the auth token, unary retries and
/// error mapping. Services call <see cref="CallAsync{TRequest, TResponse}"/> and <see cref="StreamAsync{TRequest, TResponse}"/>.
/// </summary>
internal sealed class ControlPlane : IAsyncDisposable, IDisposable
{
    /// <summary>The client type sent in <c>x-modal-client-type</c> (CLIENT_TYPE_LIBMODAL).</summary>
    internal const string ClientType = "7";

    /// <summary>The protocol client version sent in <c>x-modal-client-version</c> (the one Modal's libraries send).</summary>
    internal const string ClientVersion = "1.0.0";

    private readonly GrpcChannel _channel;
    private readonly ModalClientClient _client;
    private readonly AuthTokenCache _authToken;
    private readonly RetryPolicy _retryPolicy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly (string Id, string Secret)? _credentials;

    public ControlPlane(ClientSettings settings, RetryPolicy retryPolicy, ILoggerFactory loggerFactory, TimeProvider time,
        Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null)
    {
        WrapHandler = wrapHandler;
        Settings = settings;
        LoggerFactory = loggerFactory;
        _time = time;
        _logger = loggerFactory.CreateLogger("TypedSandbox.ControlPlane");
        _channel = GrpcChannels.Create(settings.ServerUrl, loggerFactory, wrapHandler, settings.TrustedCertificateAuthorities);
        _client = new ModalClientClient(_channel);
        _retryPolicy = retryPolicy with { MaxThrottleWait = settings.MaxThrottleWait };
        _credentials = ResolveCredentials(settings);
        _authToken = new AuthTokenCache(FetchAuthTokenAsync, time, _logger);
    }

    public ClientSettings Settings { get; }

    public ILoggerFactory LoggerFactory { get; }

    public TimeProvider Time => _time;

    /// <summary>Wraps the HTTP handler of every channel this client opens (tests inject faults with it).</summary>
    public Func<HttpMessageHandler, HttpMessageHandler>? WrapHandler { get; }

    /// <summary>Runs a unary RPC under the client's <see cref="RetryPolicy"/>; failures become TypedSandbox exceptions.</summary>
    /// <param name="method">The RPC name (for errors and logs).</param>
    /// <param name="invoke">Starts the call on the generated client.</param>
    /// <param name="request">The request message.</param>
    /// <param name="cancellationToken">Cancels the call and its retries.</param>
    /// <param name="attemptTimeout">Cancels a single attempt after this long (no deadline is sent to the server).</param>
    /// <param name="notFoundMessage">A clearer message for NOT_FOUND.</param>
    public async Task<TResponse> CallAsync<TRequest, TResponse>(
        string method,
        Func<ModalClientClient, TRequest, CallOptions, AsyncUnaryCall<TResponse>> invoke,
        TRequest request,
        CancellationToken cancellationToken,
        TimeSpan? attemptTimeout = null,
        string? notFoundMessage = null)
    {
        var idempotencyKey = Guid.NewGuid().ToString();
        return await _retryPolicy.InvokeAsync(new UnaryCall(method, attemptTimeout, notFoundMessage), async (attempt, ct) =>
        {
            var headers = await HeadersAsync(ct).ConfigureAwait(false);
            headers.Add("x-idempotency-key", idempotencyKey);
            headers.Add("x-retry-attempt", attempt.Retry.ToString(CultureInfo.InvariantCulture));
            headers.Add("x-throttle-retry-attempt", attempt.ThrottleRetry.ToString(CultureInfo.InvariantCulture));
            if (attempt.LastDelay is { } delay)
            {
                headers.Add("x-retry-delay", delay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture));
            }
            if (attempt.LastThrottleDelay is { } throttle)
            {
                headers.Add("x-throttle-retry-delay", throttle.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture));
            }
            using var call = invoke(_client, request, new CallOptions(headers, cancellationToken: ct));
            var response = await call.ResponseAsync.ConfigureAwait(false);
            LogWarnings(call.GetTrailers());
            return response;
        }, _time, _logger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a server stream with Modal's headers and yields its messages. Retrying is the caller's
    /// business (streams resume by protocol-specific cursors); failures surface as <see cref="RpcException"/>.</summary>
    public async IAsyncEnumerable<TResponse> StreamAsync<TRequest, TResponse>(
        Func<ModalClientClient, TRequest, CallOptions, AsyncServerStreamingCall<TResponse>> invoke,
        TRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var headers = await HeadersAsync(cancellationToken).ConfigureAwait(false);
        using var call = invoke(_client, request, new CallOptions(headers, cancellationToken: cancellationToken));
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return call.ResponseStream.Current;
        }
    }

    private async Task<Metadata> HeadersAsync(CancellationToken cancellationToken)
    {
        var headers = BaseHeaders();
        headers.Add("x-modal-auth-token", await _authToken.GetAsync(cancellationToken).ConfigureAwait(false));
        return headers;
    }

    private Metadata BaseHeaders()
    {
        var (id, secret) = _credentials ?? throw new SandboxConfigurationException(
            "Profile is missing credentials: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET, the profile's token_id and " +
            $"token_secret in '{Settings.ConfigPath}', or SandboxClientOptions.TokenId and TokenSecret. For a TypedSandbox " +
            "engine, MODAL_CONFIG_PATH=<state-dir>/modal.toml names its profile.");
        return new Metadata
        {
            { "x-modal-client-type", ClientType },
            { "x-modal-client-version", ClientVersion },
            { "x-modal-libmodal-version", "typedsandbox-dotnet/" + typeof(ControlPlane).Assembly.GetName().Version?.ToString(3) },
            { "x-modal-host", Settings.ServerUrl.Host },
            { "x-modal-token-id", id },
            { "x-modal-token-secret", secret },
        };
    }

    private async Task<string> FetchAuthTokenAsync(CancellationToken cancellationToken)
    {
        var response = await _retryPolicy.InvokeAsync(new UnaryCall("AuthTokenGet", TimeSpan.FromSeconds(5)), async (_, ct) =>
        {
            using var call = _client.AuthTokenGetAsync(new AuthTokenGetRequest(), new CallOptions(BaseHeaders(), cancellationToken: ct));
            return await call.ResponseAsync.ConfigureAwait(false);
        }, _time, _logger, cancellationToken).ConfigureAwait(false);
        return response.Token;
    }

    private void LogWarnings(Metadata trailers)
    {
        if (trailers.GetValue("x-modal-warning") is { Length: > 0 } warnings)
        {
            foreach (var warning in warnings.Split(','))
            {
                Log.ServerWarning(_logger, Uri.UnescapeDataString(warning.Trim()));
            }
        }
    }

    private static (string, string)? ResolveCredentials(ClientSettings settings) =>
        settings.TokenId is { } id && settings.TokenSecret is { } secret ? (id, secret) : null;

    public void Dispose()
    {
        _authToken.Dispose();
        _channel.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
